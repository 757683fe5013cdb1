/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The backend serves the built UI from backend/static and the API on :8083; in dev,
// Vite serves the UI and proxies the API (and its websocket) to a running backend.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "../backend/static", emptyOutDir: true, chunkSizeWarningLimit: 800 },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:8083", ws: true } },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
