// The pages, one file each under pages/. Each renders into `main` from the public /api/v1
// routes and returns an optional stop function (for polling) that the router calls when leaving.

export { allowWrites } from "./pages/shared.js";
export { workspaces } from "./pages/workspaces.js";
export { dashboard } from "./pages/dashboard.js";
export { connections } from "./pages/connections.js";
export { rules } from "./pages/rules.js";
export { events, eventDetail } from "./pages/events.js";
