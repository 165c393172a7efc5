// The kiosk picker of the figures and titles pages (templates/picker.html): shows the filter
// field the page hides from browsers without scripts, and narrows the grouped select to the
// kiosks whose id, service point or library holds every word typed. A library's name keeps
// all its kiosks. The first match is chosen, so Enter in the field shows it; Down moves to
// the list, Escape clears the field. Without this script the select works as it is.
(function () {
  "use strict";
  var box = document.getElementById("picker");
  if (!box) return;
  var field = document.getElementById("kiosk-filter");
  var select = document.getElementById("kiosk-pick");
  var status = document.getElementById("kiosk-filter-status");
  var everyOption = select.querySelector("option[value='']");
  // The whole list as the server sent it; filtering rebuilds the select from these.
  var groups = Array.prototype.map.call(select.querySelectorAll("optgroup"), function (g) {
    return {element: g, library: g.label.toLowerCase(),
            options: Array.prototype.slice.call(g.querySelectorAll("option"))};
  });

  function fill(text, args) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in args ? args[k] : m; });
  }
  function words(text) { return text.toLowerCase().split(/\s+/).filter(Boolean); }
  function holdsAll(text, wanted) {
    text = text.toLowerCase();
    return wanted.every(function (w) { return text.indexOf(w) !== -1; });
  }

  function narrow() {
    var wanted = words(field.value);
    var chosen = select.value;
    var shown = [];   // options left, in order
    var kiosks = 0;
    while (select.lastChild) select.removeChild(select.lastChild);
    select.appendChild(everyOption);
    groups.forEach(function (g) {
      var whole = wanted.length === 0 || holdsAll(g.library, wanted);
      var kept = g.options.filter(function (o) {
        return whole || holdsAll(o.dataset.search || o.textContent, wanted);
      });
      while (g.element.lastChild) g.element.removeChild(g.element.lastChild);
      if (!kept.length) return;
      kept.forEach(function (o) {
        g.element.appendChild(o);
        shown.push(o);
        if (o.value.indexOf("library:") !== 0) kiosks += 1;
      });
      select.appendChild(g.element);
    });
    var keep = shown.some(function (o) { return o.value === chosen; }) ? chosen : null;
    if (!wanted.length) {
      select.value = chosen;
      select.removeAttribute("size");
      status.textContent = "";
      return;
    }
    select.value = keep !== null ? keep : (shown.length ? shown[0].value : "");
    // While filtering, the matches stay in view as a list (a few rows), not behind a click.
    select.size = Math.max(2, Math.min(8, shown.length + select.querySelectorAll("optgroup").length + 1));
    status.textContent = shown.length ? fill(box.dataset.matching, {n: kiosks})
                                      : box.dataset.none;
  }

  field.parentNode.hidden = false;
  field.addEventListener("input", narrow);
  field.addEventListener("search", narrow);  // the field's own clear button
  field.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      select.focus();
    } else if (e.key === "Escape" && field.value) {
      e.preventDefault();
      field.value = "";
      narrow();
    }
  });
  // A list (while filtering) takes no Enter by itself: Enter there shows the choice.
  select.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && select.size > 1) {
      e.preventDefault();
      if (select.form.requestSubmit) select.form.requestSubmit(); else select.form.submit();
    }
  });
  // Back from another page, the browser may have kept the field's text: apply it again.
  if (field.value) narrow();
})();
