/*
 * The asset list: a "tick every asset on this page" box for the label sheet.
 * <input type="checkbox" data-pick-all="asset"> ticks every box named "asset".
 */
(function () {
  "use strict";
  document.querySelectorAll("input[data-pick-all]").forEach(function (master) {
    var name = master.dataset.pickAll;
    master.addEventListener("change", function () {
      document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
        box.checked = master.checked;
      });
    });
  });
})();
