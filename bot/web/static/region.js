// Vary (Region): paint over the image on a <canvas>; the painted layer goes with the form as a PNG
// data URL (the server checks its size and that something, not everything, is painted). Plain
// script, no framework; without it the 3×3 grid on the same page still works.
(function () {
  "use strict";
  var canvas = document.getElementById("mask");
  var form = document.getElementById("region");
  if (!canvas || !form) { return; }
  var brush = document.getElementById("brush");
  var ink = canvas.getContext("2d");
  var painting = false;
  var last = null;
  var painted = false;

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return { x: (event.clientX - box.left) * canvas.width / box.width,
             y: (event.clientY - box.top) * canvas.height / box.height,
             scale: canvas.width / box.width };
  }

  function stroke(from, to) {
    // The brush size is in screen pixels, whatever the image's own size.
    ink.lineWidth = Number(brush.value) * to.scale;
    ink.lineCap = "round";
    ink.lineJoin = "round";
    ink.strokeStyle = "rgba(255, 64, 96, 1)";
    ink.beginPath();
    ink.moveTo(from.x, from.y);
    ink.lineTo(to.x, to.y);
    ink.stroke();
    painted = true;
  }

  canvas.addEventListener("pointerdown", function (event) {
    painting = true;
    last = point(event);
    stroke(last, last);
    canvas.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!painting) { return; }
    var next = point(event);
    stroke(last, next);
    last = next;
  });
  function stop() { painting = false; last = null; }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);

  document.getElementById("clear").addEventListener("click", function () {
    ink.clearRect(0, 0, canvas.width, canvas.height);
    painted = false;
  });

  form.addEventListener("submit", function () {
    // Always sent: an empty layer is refused by the server with the bot's message, unless grid
    // cells are ticked.
    document.getElementById("mask-data").value = painted ? canvas.toDataURL("image/png") : "";
  });
})();
