import { defineConfig } from "vite";

// Served under /app: by the local runtime (local/console.py) and by CloudFront from the bucket's app/ prefix.
export default defineConfig({
  base: "/app/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
});
