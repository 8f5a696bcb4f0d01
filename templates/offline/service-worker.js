{% load static %}// The service worker of the offline entry form (issue 21), served at /sw.js so that its
// scope covers /incidents/new. Workbox (npm, served from node_modules) does the caching: the
// entry form from the network when there is one, else the copy kept from the last visit;
// scripts, styles and the mission's boundaries from the cache while a fresh copy is fetched.
// Records typed without a network wait in the page's own outbox (static/js/offline-entry.js),
// not here: nothing a reporter writes is ever stored by this worker.
importScripts(
  "{% static 'vendor/workbox-core/workbox-core.prod.js' %}",
  "{% static 'vendor/workbox-routing/workbox-routing.prod.js' %}",
  "{% static 'vendor/workbox-strategies/workbox-strategies.prod.js' %}",
);

self.skipWaiting();
workbox.core.clientsClaim();

workbox.routing.registerRoute(
  ({ request, url }) => request.mode === "navigate" && url.pathname === "{% url 'incidents:create' %}",
  new workbox.strategies.NetworkFirst({ cacheName: "entry-form", networkTimeoutSeconds: 8 }),
);
workbox.routing.registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname.startsWith("{% get_static_prefix %}"),
  new workbox.strategies.StaleWhileRevalidate({ cacheName: "static" }),
);
workbox.routing.registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname === "{% url 'geo:countries' %}",
  new workbox.strategies.StaleWhileRevalidate({ cacheName: "boundaries" }),
);
