// Parses IIIF JSON files with @iiif/parser (a real client's normaliser), as tests/test_iiif.py asks:
//   node tests/iiif_parse.cjs FILE...
// prints one JSON line per file: what the parser found (type, canvases, annotations, ranges), or its error.
"use strict";
const fs = require("fs");
const { normalize } = require("@iiif/parser");

for (const file of process.argv.slice(2)) {
  const out = { file };
  try {
    const result = normalize(JSON.parse(fs.readFileSync(file, "utf8")));
    const top = result.entities[result.resource.type][result.resource.id];
    out.type = result.resource.type;
    out.label = top.label;
    out.canvases = Object.keys(result.entities.Canvas || {}).length;
    out.durations = Object.values(result.entities.Canvas || {}).map((c) => c.duration);
    out.ranges = Object.keys(result.entities.Range || {}).length;
    out.annotations = Object.values(result.entities.Annotation || {}).map((a) => a.motivation);
    out.members = top.items ? top.items.length : 0;
    out.services = (top.service || []).map((s) => s.type || s["@type"]);
  } catch (err) {
    out.error = String(err && err.stack || err);
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
