// Starts Swagger UI on /docs. It lives in a file rather than an inline <script> because the pages'
// Content-Security-Policy allows scripts from this origin only; the page names the OpenAPI document
// in a data attribute.
"use strict";

(function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // the default sends the document to an outside validator
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
