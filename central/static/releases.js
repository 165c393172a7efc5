// The "System updates" and "E-book batches" pages: sends the chosen file in chunks, each with
// the offset it starts at, shows the progress, and after a dropped connection goes on from what
// the server has (a 409 answer carries the server's offset). Then it asks the server to publish
// it as the form's kind (data-kind: system or catalogue).
(function () {
  "use strict";
  var form = document.getElementById("upload");
  document.querySelectorAll("form.withdraw").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });
  if (!form) return;
  var texts = JSON.parse(document.getElementById("upload-texts").textContent);
  var chunkBytes = Number(form.dataset.chunk);
  var box = document.getElementById("progress-box");
  var bar = document.getElementById("progress");
  var line = document.getElementById("progress-text");
  var errorBox = document.getElementById("upload-error");
  var button = document.getElementById("send");
  var kind = form.dataset.kind;
  var every = document.getElementById("all-libraries");  // absent for a library's staff
  var libraries = form.querySelectorAll("input[name=library]");

  function fill(text, args) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in args ? args[k] : m; });
  }
  function mb(bytes) { return (bytes / 1048576).toFixed(1); }
  function show(done, total) {
    var percent = total ? Math.floor(done * 100 / total) : 0;
    bar.value = percent;
    line.textContent = fill(texts.progress, {done: mb(done), total: mb(total), percent: percent});
  }
  function fail(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
    button.disabled = false;
  }
  function Refused(detail) { this.detail = detail; }
  function sleep(seconds) { return new Promise(function (r) { setTimeout(r, seconds * 1000); }); }

  // One request; resolves with the status and JSON answer, rejects when the connection fails.
  function request(method, url, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
      if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
        resolve({status: xhr.status, json: answer});
      };
      xhr.onerror = xhr.onabort = xhr.ontimeout = function () { reject(new Error("network")); };
      if (body instanceof Blob) {
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
        xhr.send(body);
      } else if (body) {
        xhr.setRequestHeader("Content-Type", "application/json");
        xhr.send(JSON.stringify(body));
      } else {
        xhr.send();
      }
    });
  }
  function expectOk(answer) {
    if (answer.status !== 200) throw new Refused(answer.json.detail || ("HTTP " + answer.status));
    return answer.json;
  }

  async function send(file, chosen, all) {
    var wait = 1, started;
    for (;;) {  // the first request may meet a dropped connection too
      try {
        started = expectOk(await request("POST", "/releases/uploads",
          {kind: kind, name: file.name, size: file.size, modified: file.lastModified || 0}));
        break;
      } catch (e) {
        if (e instanceof Refused) throw e;
        line.textContent = fill(texts.retrying, {seconds: wait});
        await sleep(wait);
        wait = Math.min(wait * 2, 30);
      }
    }
    var offset = started.offset;
    show(offset, file.size);
    if (offset > 0) line.textContent = fill(texts.resuming, {done: mb(offset)});
    wait = 1;
    while (offset < file.size) {
      var end = Math.min(file.size, offset + chunkBytes);
      try {
        var from = offset;
        var answer = await request("PUT", "/releases/uploads/" + started.id + "?offset=" + from,
          file.slice(from, end), function (loaded) { show(from + loaded, file.size); });
        if (answer.status === 200 || (answer.status === 409 && typeof answer.json.offset === "number")) {
          offset = answer.json.offset;
          wait = 1;
          show(offset, file.size);
        } else if (answer.status >= 500) {
          throw new Error("server");
        } else {
          throw new Refused(answer.json.detail || ("HTTP " + answer.status));
        }
      } catch (e) {
        if (e instanceof Refused) throw e;
        line.textContent = fill(texts.retrying, {seconds: wait});
        await sleep(wait);
        wait = Math.min(wait * 2, 30);
      }
    }
    line.textContent = texts.checking;
    var published = expectOk(await request("POST", "/releases/uploads/" + started.id + "/publish",
      {kind: kind, libraries: chosen, all_libraries: all}));
    window.location.assign(published.next);
  }

  if (every) every.addEventListener("change", function () {
    libraries.forEach(function (box) { box.disabled = every.checked; });
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    errorBox.hidden = true;
    var file = document.getElementById("release-file").files[0];
    if (!file) { fail(texts.choose); return; }
    var chosen = [];
    libraries.forEach(function (box) { if (box.checked && !box.disabled) chosen.push(box.value); });
    var all = Boolean(every && every.checked);
    if (!all && chosen.length === 0) { fail(texts.libraries); return; }
    button.disabled = true;
    box.hidden = false;
    show(0, file.size);
    send(file, all ? [] : chosen, all).catch(function (err) {
      fail(fill(texts.failed, {why: err instanceof Refused ? err.detail : String(err)}));
    });
  });
})();
