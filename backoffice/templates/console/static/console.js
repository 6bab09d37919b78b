// Progressive enhancement only: every page works without it.
// On the sportello page, a tablet with a camera reads the ticket's QR (BarcodeDetector)
// and opens the booking; without the API the code is typed in the same field.
(function () {
  "use strict";
  var button = document.getElementById("scansiona");
  var video = document.getElementById("camera");
  var field = document.getElementById("codice");
  if (!button || !video || !field || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.hidden = false;
      video.srcObject = stream;
      video.play();
      var look = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (track) { track.stop(); });
            field.value = codes[0].rawValue;
            document.getElementById("cerca").submit();
          } else {
            window.requestAnimationFrame(look);
          }
        }).catch(function () { window.requestAnimationFrame(look); });
      };
      look();
    }).catch(function () {
      button.hidden = true;
      field.focus();
    });
  });
})();
