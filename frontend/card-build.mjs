// Builds the two scripts every card page inlines (so a card needs nothing from any network):
//   card-renderer.js  src/cardview/renderer.ts  — draws the card document, follows live updates
//   card-charts.js    src/cardview/charts.ts    — Vega, Vega-Lite and vega-interpreter (CSP-safe)
// Each is one IIFE file, written next to the Python that inlines them into card pages
// (contract/cards/page.py): the runtime writes its cards with them, and the UI backend serves
// Metaflow's cards through the same renderer.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../contract/cards/assets");
const entries = [
  ["card-renderer", "src/cardview/renderer.ts", "FlowscopeCardRenderer"],
  ["card-charts", "src/cardview/charts.ts", "FlowscopeChartsBundle"],
];

for (const [name, entry, global] of entries) {
  await build({
    configFile: false,
    logLevel: "warn",
    root: here,
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    build: {
      outDir: out,
      emptyOutDir: false,
      minify: true,
      sourcemap: false,
      chunkSizeWarningLimit: 4000,
      lib: { entry: resolve(here, entry), name: global, formats: ["iife"], fileName: () => `${name}.js` },
    },
  });
  console.log(`card bundle ${name}.js built`);
}
