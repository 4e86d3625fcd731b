import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The same tree-shaking the apps get for the tRPC client packages (their package.json does not declare them
// free of side effects; apps/web/vite.config.ts says why), so the floor is not inflated by the unused
// WebSocket link and the apps' ratios stay honest.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    rolldownOptions: {
      treeshake: {
        moduleSideEffects: (id) =>
          /\/node_modules\/@trpc\/(client|tanstack-react-query)\//.test(id) ? false : undefined,
      },
    },
  },
});
