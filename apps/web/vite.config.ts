import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = process.env.MINUTELY_API_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    port: 5173,
    strictPort: true,
    // Exact prefixes: "/api" alone would also send the SPA route /api-keys to the API on reload.
    proxy: { "/trpc/": api, "/api/": api },
  },
  build: {
    sourcemap: true,
    rolldownOptions: {
      // The workspace's own TypeScript packages (@minutely/ui, @minutely/domain) have no side effects on
      // import, so their unused exports (the auth forms with zod and react-hook-form, say) stay out of the
      // first route's bundle. Neither have @trpc/client and @trpc/tanstack-react-query, though their
      // package.json does not say so (@trpc/server's does): without this the WebSocket link, which no app
      // uses, stayed in the first route (the `connectCount` static of its connection class is a call).
      // Everything else keeps its package.json's sideEffects.
      treeshake: {
        moduleSideEffects: (id) =>
          /\/packages\/(ui|domain)\/src\/.*\.tsx?$/.test(id) ||
          /\/node_modules\/@trpc\/(client|tanstack-react-query)\//.test(id)
            ? false
            : undefined,
      },
    },
  },
});
