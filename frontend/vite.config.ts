/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

/**
 * src/early.ts is a second entry, loaded before the app's (its own small script, not part of the
 * app's bundle, which Vite would make of every module script in index.html): it starts a deep
 * link's first API requests while the app's bundle still downloads and evaluates.
 */
const EARLY_MODULES = /\/src\/(early|api\/(client|paths|early)|nav\/viewState|logs\/logWindow)\.ts$/;

function earlyEntry(): Plugin {
  return {
    name: "flowscope-early-entry",
    transformIndexHtml: {
      order: "post",
      handler(_html, ctx) {
        let src = "/src/early.ts";
        if (!ctx.server) {
          const chunk = Object.values(ctx.bundle ?? {}).find((c) => c.type === "chunk" && c.isEntry && c.name === "early");
          if (!chunk) return [];
          src = `/${chunk.fileName}`;
        }
        // async: it runs as soon as it is here, not after the parse or in order behind the app.
        return [{ tag: "script", attrs: { type: "module", async: true, crossorigin: true, src }, injectTo: "head-prepend" }];
      },
    },
  };
}

// The backend serves the built UI from backend/static and the API on :8083; in dev,
// Vite serves the UI and proxies the API (and its websocket) to a running backend.
export default defineConfig({
  plugins: [react(), earlyEntry()],
  build: {
    outDir: "../backend/static", emptyOutDir: true, chunkSizeWarningLimit: 800,
    rollupOptions: {
      input: {
        index: "index.html",
        early: "src/early.ts",
      },
      output: {
        // What the early entry needs lives in its own chunk, which the app imports: the early
        // script then has nothing to wait for (a chunk shared the other way round would make it
        // wait for one more file).
        manualChunks: (id: string) => (EARLY_MODULES.test(id) ? "early" : undefined),
      },
    },
  },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:8083", ws: true } },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
