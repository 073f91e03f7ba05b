// Traction: the one small script. Pages work without it; it adds live updates (the server's
// event stream), drag and drop on the pipeline board, and validation as you type.
"use strict";
(function () {
  // The same file is the shared worker that holds the browser's one event-stream connection
  // (see "Live updates" below); a worker has no document.
  if (typeof document === "undefined") { liveWorker(self); return; }

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  // ---- Live updates -------------------------------------------------------------------
  // Regions marked data-live (with an id) are refreshed in place from a fresh render of the
  // same URL when anything changes anywhere; changed regions flash briefly.
  var live = document.getElementById("live");
  var regions = document.querySelectorAll("[data-live][id]");
  var pending = null, busy = false, again = false;

  function setLive(on) {
    if (!live) return;
    live.dataset.state = on ? "on" : "off";
    live.textContent = on ? "live" : "offline";
  }

  // `force` re-renders even the region the user is working in (after their own move).
  function refresh(force) {
    if (busy && !force) { again = true; return Promise.resolve(); }
    busy = true;
    return fetch(location.href, { headers: { "X-Traction-Live": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (!fresh || fresh.innerHTML === el.innerHTML) return;
          // Keep a focused control's place: skip regions the user is working in.
          if (!force && el.contains(document.activeElement) && document.activeElement !== document.body) return;
          el.innerHTML = fresh.innerHTML;
          el.classList.remove("flash");
          void el.offsetWidth;
          el.classList.add("flash");
        });
        document.dispatchEvent(new CustomEvent("traction:refreshed"));
      })
      .catch(function () {})
      .finally(function () {
        busy = false;
        if (again) { again = false; schedule(); }
      });
  }

  function schedule() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; refresh(); }, 250);
  }

  // One connection per browser, shared by every tab: a browser opens at most six connections
  // to a server, so a stream per tab would leave the seventh tab unable to load. A shared worker
  // (this same file) holds the stream and tells every tab; where there is none, the tabs elect a
  // leader with a Web Lock that holds the stream and tells the others on a BroadcastChannel;
  // only without either does a tab keep its own stream. Pages without live regions listen to
  // nothing and show no live badge.
  function listen(onState, onChange) {
    var mode = "";
    try { mode = localStorage.getItem("traction-live") || ""; } catch (e) { /* private mode */ }
    if (window.SharedWorker && mode !== "channel" && mode !== "own") {
      try {
        var worker = new SharedWorker("/assets/app.js", { name: "traction-live" });
        worker.port.onmessage = function (m) {
          if (m.data.type === "state") onState(m.data.on); else onChange(m.data.kind);
        };
        worker.port.start();
        // A page leaving (or coming back from the back-forward cache) says so: the worker
        // tells only the pages that are there.
        window.addEventListener("pagehide", function () { worker.port.postMessage("bye"); });
        window.addEventListener("pageshow", function (e) { if (e.persisted) worker.port.postMessage("hello"); });
        return "shared";
      } catch (e) { /* fall through to the leader election */ }
    }
    if (window.BroadcastChannel && navigator.locks && mode !== "own") {
      var channel = new BroadcastChannel("traction-live");
      var leading = null;
      channel.onmessage = function (m) {
        var d = m.data;
        if (d.type === "state") onState(d.on);
        else if (d.type === "change") onChange(d.kind);
        else if (d.type === "hello" && leading !== null) channel.postMessage({ type: "state", on: leading });
      };
      // The lock is held until this tab goes away; then the next tab in line takes the lead.
      navigator.locks.request("traction-live", function () {
        return new Promise(function () {
          stream(function (on) {
            leading = on;
            onState(on);
            channel.postMessage({ type: "state", on: on });
          }, function (kind) {
            onChange(kind);
            channel.postMessage({ type: "change", kind: kind });
          });
        });
      });
      channel.postMessage({ type: "hello" });
      return "channel";
    }
    stream(onState, onChange);
    return "own";
  }

  // ---- The bell: the unread count of one's notifications ----------------------------------
  // A `notification` event (one's own only) or a reload re-reads the count; a change to records
  // refreshes the live regions alone.
  var bell = document.getElementById("bell");
  function refreshBell() {
    if (!bell) return;
    fetch("/notifications/count", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) return;
        var count = document.getElementById("bell-count");
        bell.dataset.unread = d.unread;
        bell.setAttribute("aria-label", "Notifications: " + d.unread + " unread");
        if (count) { count.textContent = d.unread; count.hidden = d.unread === 0; }
      })
      .catch(function () {});
  }
  function onAnnounced(kind) {
    if (kind !== "notification" && regions.length) schedule();
    if (kind !== "change") refreshBell();
  }

  // Pages without live figures listen for the bell alone and show no live badge.
  if ((regions.length || bell) && window.EventSource) {
    if (live && regions.length) { live.dataset.state = "connecting"; live.textContent = "connecting"; }
    document.documentElement.dataset.live =
      listen(regions.length ? setLive : function () {}, onAnnounced);
  }

  // ---- Pipeline: drag and drop (pointer events: mouse, pen and touch alike) -------------
  // The keyboard way is the form on every card (a stage list and a Move button), which also
  // works without this script.
  function postMove(deal, stage) {
    var body = new URLSearchParams({ deal: deal, stage: stage, _csrf: csrf });
    return fetch("/pipeline/move", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf, "X-Traction-Live": "1" },
      body: body,
    }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t); });
      return refresh(true);
    });
  }

  // Says what happened in the board's status line (read out by screen readers).
  function confirmMove(deal, stage) {
    var status = document.getElementById("board-status");
    var card = document.getElementById("deal-" + deal);
    var name = card ? card.querySelector(".name").textContent : "The deal";
    var col = document.querySelector('.col[data-stage="' + stage + '"] h2');
    var stageName = col ? col.firstChild.textContent.trim() : "its new stage";
    if (status) { status.hidden = false; status.textContent = name + " moved to " + stageName + "."; }
    return card;
  }

  function setupBoard() {
    var board = document.querySelector(".board-cols");
    if (!board) return;
    var drag = null;
    board.addEventListener("pointerdown", function (e) {
      var handle = e.target.closest(".handle");
      if (!handle || e.button !== 0) return;
      var card = handle.closest(".deal");
      e.preventDefault();
      var ghost = card.cloneNode(true);
      ghost.classList.add("ghost");
      ghost.removeAttribute("id");
      document.body.appendChild(ghost);
      card.setAttribute("data-dragging", "");
      drag = { card: card, ghost: ghost, over: null, y: e.clientY };
      move(e);
      // Held near the top or bottom edge, the page scrolls (a finger that stops still sends no
      // more moves), so every column — Won and Lost on a phone too — can be reached.
      (function edgeScroll() {
        if (!drag) return;
        if (drag.y < 56) window.scrollBy(0, -12);
        else if (drag.y > window.innerHeight - 56) window.scrollBy(0, 12);
        requestAnimationFrame(edgeScroll);
      })();
      handle.setPointerCapture(e.pointerId);
    });
    function colAt(x, y) {
      var el = document.elementFromPoint(x, y);
      return el ? el.closest(".col") : null;
    }
    function move(e) {
      if (!drag) return;
      drag.y = e.clientY;
      drag.ghost.style.left = e.clientX + 8 + "px";
      drag.ghost.style.top = e.clientY + 8 + "px";
      var col = colAt(e.clientX, e.clientY);
      if (drag.over && drag.over !== col) drag.over.classList.remove("drop");
      if (col) col.classList.add("drop");
      drag.over = col;
    }
    board.addEventListener("pointermove", move);
    function end(e, cancelled) {
      if (!drag) return;
      var d = drag;
      drag = null;
      d.ghost.remove();
      d.card.removeAttribute("data-dragging");
      if (d.over) d.over.classList.remove("drop");
      var col = cancelled ? null : colAt(e.clientX, e.clientY);
      if (!col || col.dataset.stage === d.card.dataset.stage) return;
      col.querySelector("ol").prepend(d.card);
      d.card.dataset.stage = col.dataset.stage;
      var deal = d.card.dataset.deal, stage = col.dataset.stage;
      postMove(deal, stage).then(function () { confirmMove(deal, stage); }).catch(function (err) {
        alert("The deal could not be moved: " + err.message);
        refresh();
      });
    }
    board.addEventListener("pointerup", function (e) { end(e, false); });
    board.addEventListener("pointercancel", function (e) { end(e, true); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && drag) end(e, true);
    });
    // The keyboard way: the card's Move form posts in place, then the moved card keeps the
    // focus (on its Move, in its new column) and the status line confirms the move.
    board.addEventListener("submit", function (e) {
      var form = e.target.closest(".deal form");
      if (!form) return;
      e.preventDefault();
      var deal = form.elements.deal.value, stage = form.elements.stage.value;
      postMove(deal, stage).then(function () {
        var card = confirmMove(deal, stage);
        var summary = card && card.querySelector("summary");
        if (summary) summary.focus();
      }).catch(function (err) {
        alert("The deal could not be moved: " + err.message);
        refresh(true);
      });
    });
  }
  setupBoard();

  // ---- Forms: validate as you type; submit controls keep the scope on change ---------------
  document.querySelectorAll("form[data-validate] input, form[data-validate] select").forEach(function (el) {
    el.addEventListener("input", function () {
      var msg = el.parentElement.querySelector(".error-text[data-for]");
      if (msg && msg.dataset.for === el.name && el.checkValidity()) msg.textContent = "";
    });
  });
  document.querySelectorAll("form.filters select[data-auto]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.requestSubmit(); });
  });

  // ---- Metric definitions: checked as you type -----------------------------------------------
  // The form posts itself to its data-check URL (debounced); each problem is shown at its field
  // and the preview replaced. Nothing is stored: saving stays the form's own submit.
  document.querySelectorAll("form[data-check]").forEach(function (form) {
    var timer = null, seq = 0;
    function run() {
      var mine = ++seq;
      var body = new URLSearchParams(new FormData(form));
      fetch(form.dataset.check, {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf, "X-Traction-Live": "1" }
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (answer) {
        if (!answer || mine !== seq) return;
        form.querySelectorAll(".error-text[data-for]").forEach(function (el) { el.textContent = ""; });
        answer.problems.forEach(function (p) {
          var el = form.querySelector('.error-text[data-for="' + p.field + '"]') ||
                   form.querySelector('.error-text[data-for="definition"]');
          if (el) el.textContent = (el.textContent ? el.textContent + "; " : "") + p.problem;
        });
        var preview = document.getElementById("metric-preview");
        if (preview) preview.outerHTML = answer.preview;
      }).catch(function () {});
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 300);
    });
  });

  // ---- Import: the progress of a large file ---------------------------------------------------
  // The form posts itself: the upload's progress from the browser, then the import's from
  // /import/progress (bytes of the file read), then the answer replaces the page.
  function megabytes(n) { return (n / 1048576).toFixed(1) + " MB"; }
  function setupImport() {
    var form = document.querySelector("form[data-progress]");
    if (!form || !window.XMLHttpRequest || !window.FormData) return;
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var box = document.getElementById("import-progress");
      var bar = document.getElementById("import-bar");
      var step = document.getElementById("import-step");
      var button = form.querySelector("button[type=submit]");
      var id = "p" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
      var url = form.action + (form.action.indexOf("?") < 0 ? "?" : "&") + "progress=" + id;
      var polling = null, done = false;
      function show(pct, text) {
        box.hidden = false;
        if (pct === null) bar.removeAttribute("value"); else bar.value = pct;
        step.textContent = text;
      }
      function poll() {
        if (done) return;
        fetch("/import/progress?id=" + id, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (p) {
            if (done) return;
            if (p && p.running && p.total > 0) {
              var pct = Math.min(100, Math.round(100 * p.read / p.total));
              show(pct, "Importing: " + megabytes(p.read) + " of " + megabytes(p.total) + " read (" + pct + "%)");
            }
            polling = setTimeout(poll, 250);
          })
          .catch(function () { polling = setTimeout(poll, 1000); });
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) {
          var pct = Math.round(100 * ev.loaded / ev.total);
          show(pct, "Uploading: " + megabytes(ev.loaded) + " of " + megabytes(ev.total) + " (" + pct + "%)");
        }
      };
      xhr.upload.onload = function () {
        show(null, "Uploaded; checking and importing…");
        poll();
      };
      xhr.onload = function () {
        done = true;
        clearTimeout(polling);
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        if (doc.title) document.title = doc.title;
        document.body.replaceWith(document.adoptNode(doc.body));
        setupImport();
        var notice = document.querySelector("main [role=status], main [role=alert]");
        if (notice) { notice.setAttribute("tabindex", "-1"); notice.focus(); }
      };
      xhr.onerror = function () {
        done = true;
        clearTimeout(polling);
        button.disabled = false;
        show(0, "The upload failed: check the connection and try again.");
      };
      button.disabled = true;
      show(0, "Uploading…");
      xhr.send(new FormData(form));
    });
  }
  setupImport();
})();

// An event-stream connection: `onState(true|false)` as it opens and drops (the browser
// reconnects by itself), `onChange(kind)` on every change the server announces (`change`,
// `reload`, or `notification`: one's own notifications changed).
function stream(onState, onChange) {
  var source = new EventSource("/api/v1/events");
  source.onopen = function () { onState(true); };
  ["change", "reload", "notification"].forEach(function (kind) {
    source.addEventListener(kind, function () { onChange(kind); });
  });
  source.onerror = function () {
    onState(false);
    // A refused stream (signed out) is closed for good: try again later, as the browser would.
    if (source.readyState === 2) setTimeout(function () { stream(onState, onChange); }, 5000);
  };
}

// The shared worker: one stream for every tab of this browser on this server.
function liveWorker(scope) {
  var ports = [], state = null, started = false;
  function tell(msg) { ports.forEach(function (p) { p.postMessage(msg); }); }
  scope.onconnect = function (e) {
    var port = e.ports[0];
    ports.push(port);
    port.onmessage = function (m) {
      ports = ports.filter(function (p) { return p !== port; });
      if (m.data === "hello") {
        ports.push(port);
        if (state !== null) port.postMessage({ type: "state", on: state });
      }
    };
    port.start();
    if (state !== null) port.postMessage({ type: "state", on: state });
    if (started) return;
    started = true;
    stream(function (on) { state = on; tell({ type: "state", on: on }); }, function (kind) { tell({ type: "change", kind: kind }); });
  };
}
