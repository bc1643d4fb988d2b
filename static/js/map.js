/*
 * The map of initiatives, on the map page only (after Leaflet, both deferred).
 *
 * The page lists the same initiatives before the map: the map is an extra, shown only when
 * this script runs. Its data comes from the JSON data island #map-data (no inline script: the
 * Content-Security-Policy forbids them). Titles come from residents: they are always set as
 * text, never as HTML. The tile attribution is the operator's setting.
 */
(function () {
  "use strict";

  var island = document.getElementById("map-data");
  var section = document.getElementById("map-section");
  var container = document.getElementById("map");
  if (!island || !section || !container || typeof window.L === "undefined") {
    return;
  }
  var data;
  try {
    data = JSON.parse(island.textContent || "{}");
  } catch (error) {
    return;
  }
  var markers = Array.isArray(data.markers) ? data.markers : [];
  if (!markers.length) {
    return;
  }
  var labels = data.labels || {};
  var tiles = data.tiles || {};

  section.hidden = false;
  var L = window.L;
  // Scrolling the page must not zoom the map by surprise; the buttons and the keyboard zoom.
  var map = L.map(container, { scrollWheelZoom: false, zoomControl: false });
  L.control.zoom({ zoomInTitle: labels.zoomIn || "+", zoomOutTitle: labels.zoomOut || "-" }).addTo(map);
  if (tiles.url) {
    L.tileLayer(tiles.url, { attribution: tiles.attribution || "", maxZoom: tiles.maxZoom || 18 }).addTo(map);
  }

  function popup(marker) {
    var body = document.createElement("div");
    var title = document.createElement("p");
    var link = document.createElement("a");
    link.href = marker.url;
    link.textContent = marker.title;
    title.appendChild(link);
    body.appendChild(title);
    var facts = [marker.state, marker.neighbourhood].filter(Boolean).join(" · ");
    if (facts) {
      var details = document.createElement("p");
      details.textContent = facts;
      body.appendChild(details);
    }
    return body;
  }

  var points = [];
  markers.forEach(function (marker) {
    var lat = Number(marker.lat);
    var lng = Number(marker.lng);
    if (!isFinite(lat) || !isFinite(lng)) {
      return;
    }
    L.marker([lat, lng], { title: marker.title, alt: marker.title, keyboard: true })
      .bindPopup(popup(marker))
      .addTo(map);
    points.push([lat, lng]);
  });
  if (!points.length) {
    section.hidden = true;
    return;
  }
  map.fitBounds(points, { padding: [24, 24], maxZoom: 16 });
})();
