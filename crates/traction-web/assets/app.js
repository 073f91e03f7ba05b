// Traction: the one small script. Pages work without it; it adds live updates (the server's
// event stream), drag and drop on the pipeline board, and validation as you type.
"use strict";
(function () {
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

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { headers: { "X-Traction-Live": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (!fresh || fresh.innerHTML === el.innerHTML) return;
          // Keep a focused control's place: skip regions the user is working in.
          if (el.contains(document.activeElement) && document.activeElement !== document.body) return;
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

  if (regions.length && window.EventSource) {
    var source;
    var connect = function () {
      source = new EventSource("/api/v1/events");
      source.onopen = function () { setLive(true); };
      source.addEventListener("change", schedule);
      source.addEventListener("reload", schedule);
      source.onerror = function () { setLive(false); };
    };
    connect();
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
      refresh();
    });
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
      drag = { card: card, ghost: ghost, over: null };
      move(e);
      handle.setPointerCapture(e.pointerId);
    });
    function colAt(x, y) {
      var el = document.elementFromPoint(x, y);
      return el ? el.closest(".col") : null;
    }
    function move(e) {
      if (!drag) return;
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
      postMove(d.card.dataset.deal, col.dataset.stage).catch(function (err) {
        alert("The deal could not be moved: " + err.message);
        refresh();
      });
    }
    board.addEventListener("pointerup", function (e) { end(e, false); });
    board.addEventListener("pointercancel", function (e) { end(e, true); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && drag) end(e, true);
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
})();
