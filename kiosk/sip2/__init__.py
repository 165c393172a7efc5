"""SIP2 (3M Standard Interchange Protocol 2.00): how the kiosk talks to the library's ILS.

Pure parts: `codec` (messages, checksums, dates), `framing` (CR-terminated frames), `fields`
(message layouts, status flags), `build` and `replies` (kiosk operations to messages and
replies to `results`), `settings` (`IlsSettings`), `errors`. With I/O: `transport` (one TCP or
TLS connection) and `client` (`Sip2Client`, owned by one thread at a time). The shipped stand-in
ILS that serves the demo and the tests: `standin_data` (its TOML file), `standin_ils` (its answers)
and `standin_server` (`Sip2TestServer`).
"""
