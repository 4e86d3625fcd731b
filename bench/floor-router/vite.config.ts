// The floor's build (../floor/vite.config.ts), for the floor with a router.
export { default } from "../floor/vite.config.ts";
