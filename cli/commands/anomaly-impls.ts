import type { Implementation } from "../../engine/anomaly/model.js";

/** The forest implementations `vigil anomaly` offers (its own module: the CLI lists them without loading the commands). */
export const IMPLEMENTATIONS: readonly Implementation[] = ["native", "ml-isolation-forest"];
