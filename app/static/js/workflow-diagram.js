/* Draws the workflow diagram of /workflow-diagram/ with the vendored mermaid (no other host). */
(function () {
  "use strict";
  if (!window.mermaid) { return; }
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default",
                              flowchart: { htmlLabels: false }, state: { useMaxWidth: false } });
  window.mermaid.run({ querySelector: "pre.mermaid" }).then(function () {
    document.body.setAttribute("data-diagram", "done");
  }, function (err) {
    document.body.setAttribute("data-diagram", "failed");
    if (window.console) { window.console.error(err); }
  });
}());
