import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = process.env.MINUTELY_API_URL ?? "http://127.0.0.1:3000";

// The admin app lives under /admin/ both in dev (port 5174) and when the API serves the build.
export default defineConfig({
  base: "/admin/",
  plugins: [react(), tailwindcss()],
  server: {
    port: 5174,
    strictPort: true,
    // Exact prefixes: "/api" alone would also send the SPA route /api-keys to the API on reload.
    proxy: { "/trpc/": api, "/api/": api },
  },
  build: {
    sourcemap: true,
    rolldownOptions: {
      // The workspace's own TypeScript packages have no side effects on import, so their unused exports
      // stay out of the first route's bundle; nor have @trpc/client and @trpc/tanstack-react-query, whose
      // package.json does not say so (as in the customer app, whose config says why).
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
