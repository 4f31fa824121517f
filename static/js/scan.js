// Scan screens (inventory/floor/scan_session.html). A hardware scanner types the code and Enter;
// each Enter posts one scan (in order, one at a time) and swaps in the panel the server renders.
// A refusal beeps low (WebAudio, no sound file) and flashes the page red; a scan of the same code
// within a moment is sent with the gap measured here, and the server asks whether to add another.
// The camera (html5-qrcode, served from our own static files) feeds the same path.
(function () {
  "use strict";
  var form = document.querySelector("[data-scan-form]");
  if (!form) { return; }
  var input = form.querySelector("input[name=code]");
  var qty = form.querySelector("input[name=quantity]");
  var queue = Promise.resolve();
  var lastCode = null;
  var lastAt = 0;
  var audio = null;

  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = ok ? "sine" : "square";
      osc.frequency.value = ok ? 1320 : 180;
      gain.gain.value = ok ? 0.08 : 0.25;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + (ok ? 0.07 : 0.45));
    } catch (error) { /* no audio device: the flash and the message still say it */ }
  }

  function flash() {
    document.body.classList.remove("scan-flash-refused");
    void document.body.offsetWidth;
    document.body.classList.add("scan-flash-refused");
  }

  function panel() { return document.getElementById("scan-panel"); }

  // The quantity typed for a scan, read when the code is scanned (a scan waiting in the queue
  // keeps its own), and the box set back to 1 for the next one.
  function takeQuantity() {
    var value = qty ? qty.value : "";
    if (qty) { qty.value = "1"; }
    return value || "1";
  }

  function send(code, confirm, gap, quantity) {
    var data = new FormData(form);
    data.set("code", code);
    data.set("confirm", confirm ? "true" : "");
    data.set("gap_ms", gap === null ? "" : String(Math.round(gap)));
    data.set("quantity", quantity);
    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    }).then(function (response) {
      return response.text().then(function (html) {
        if (!response.ok && !/id="scan-panel"/.test(html)) {
          throw new Error(String(response.status));
        }
        var old = panel();
        old.insertAdjacentHTML("beforebegin", html);
        old.remove();
        var outcome = panel().dataset.outcome;
        if (outcome === "refused") { beep(false); flash(); }
        else if (outcome === "bounce") { beep(false); }
        else if (outcome) { beep(true); }
        document.dispatchEvent(new CustomEvent("scan:outcome", { detail: { outcome: outcome, code: code } }));
      });
    }).catch(function () {
      beep(false); flash();
      var old = panel();
      var p = document.createElement("p");
      p.className = "scan-outcome scan-refused";
      p.setAttribute("role", "alert");
      p.textContent = form.dataset.offline || "The scan did not reach the server. Scan it again.";
      old.prepend(p);
    });
  }

  function scan(code) {
    code = (code || "").trim();
    if (!code) { return; }
    var now = performance.now();
    var gap = code === lastCode ? now - lastAt : null;
    lastCode = code;
    lastAt = now;
    var quantity = takeQuantity();
    queue = queue.then(function () { return send(code, false, gap, quantity); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value;
    input.value = "";
    input.focus();
    scan(code);
  });

  document.addEventListener("click", function (event) {
    var yes = event.target.closest("[data-confirm]");
    if (yes) {
      // "Add another" adds what was typed for the bounced scan (the server checks it again).
      var code = yes.getAttribute("data-confirm");
      var quantity = yes.getAttribute("data-quantity") || "1";
      var box = yes.closest(".scan-bounce");
      if (box) { box.remove(); }
      queue = queue.then(function () { return send(code, true, null, quantity); });
      input.focus();
      return;
    }
    var no = event.target.closest("[data-dismiss]");
    if (no) {
      var box = no.closest(".scan-bounce");
      if (box) { box.remove(); }
      input.focus();
    }
  });

  // Camera: only when the library was installed (make setup) and the browser has a camera API.
  var startButton = form.querySelector("[data-camera-start]");
  var stopButton = form.querySelector("[data-camera-stop]");
  var view = document.getElementById("scan-camera");
  var camera = null;
  var libraryUrl = form.dataset.cameraLibrary;
  function showCamera() {
    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia && libraryUrl) {
      startButton.hidden = false;
    }
  }
  function loadLibrary() {
    if (window.Html5Qrcode) { return Promise.resolve(); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = libraryUrl;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  if (startButton) {
    showCamera();
    startButton.addEventListener("click", function () {
      loadLibrary().then(function () {
        view.hidden = false;
        camera = new window.Html5Qrcode("scan-camera");
        var seen = { code: null, at: 0 };
        return camera.start(
          { facingMode: "environment" },
          { fps: 10, qrbox: { width: 260, height: 140 } },
          function (text) {
            // The camera reads the same label many times a second: one scan per 1.5 s per code.
            var now = performance.now();
            if (text === seen.code && now - seen.at < 1500) { return; }
            seen.code = text;
            seen.at = now;
            scan(text);
          }
        ).then(function () { startButton.hidden = true; stopButton.hidden = false; });
      }).catch(function () { beep(false); flash(); view.hidden = true; });
    });
    stopButton.addEventListener("click", function () {
      if (camera) { camera.stop().catch(function () {}); }
      view.hidden = true;
      stopButton.hidden = true;
      startButton.hidden = false;
      input.focus();
    });
  }
})();
