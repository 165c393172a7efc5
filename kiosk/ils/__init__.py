"""The runtime side of talking to the ILS: the worker thread (`worker`), the offline store and its
replay (`offline_store`), and reconciling unsettled intents (`reconcile`). The checkout and
return flow itself is `kiosk.core.circulation`."""
