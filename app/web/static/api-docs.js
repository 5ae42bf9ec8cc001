// Starts Swagger UI on /docs (app/api/docs.py) from this server's own OpenAPI document.
// A file rather than an inline script, so the Content-Security-Policy holds; no validator
// badge, which would fetch from swagger.io.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
  });
})();
