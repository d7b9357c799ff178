/** /v1/rules: list the loaded rules, check a pack, enable or disable a rule, reload the pack. */
import { ApiError, fromStoreError } from "../errors.js";
import { objectSchema, principalOf, type RouteDeps, type RouteSpec } from "./spec.js";

const NAME_PARAMS = objectSchema({ name: { type: "string", minLength: 1, maxLength: 200 } }, ["name"]);

export function ruleRoutes({ ports }: RouteDeps): RouteSpec[] {
  const setEnabled = (enabled: boolean): RouteSpec => ({
    method: "POST",
    url: `/v1/rules/:name/${enabled ? "enable" : "disable"}`,
    access: "rules:admin",
    tag: "rules",
    summary: `${enabled ? "Enable" : "Disable"} a loaded rule`,
    schema: { params: NAME_PARAMS },
    responses: { 200: "The rule after the change" },
    errors: [404],
    handler: async (req) => {
      const { name } = req.params as { name: string };
      const r = await ports.rules.setEnabled(name, enabled, principalOf(req).actor);
      if (!r.ok) throw fromStoreError(r.error);
      return r.value;
    },
  });
  return [
    {
      method: "GET",
      url: "/v1/rules",
      access: "read",
      tag: "rules",
      summary: "The loaded rules",
      responses: { 200: "{ items: rules }" },
      handler: async () => ({ items: await ports.rules.list() }),
    },
    {
      method: "POST",
      url: "/v1/rules/check",
      access: "rules:check",
      tag: "rules",
      summary: "Check rule pack sources without loading them; diagnostics with file, line and column",
      schema: {
        body: objectSchema(
          {
            files: {
              type: "array",
              minItems: 1,
              maxItems: 200,
              items: objectSchema({ path: { type: "string", minLength: 1, maxLength: 500 }, text: { type: "string", maxLength: 1_000_000 } }, ["path", "text"]),
            },
          },
          ["files"],
        ),
      },
      responses: { 200: "{ ok, rules, diagnostics }" },
      handler: async (req) => {
        const body = req.body as { files: { path: string; text: string }[] };
        const paths = new Set<string>();
        for (const [i, f] of body.files.entries()) {
          if (paths.has(f.path)) throw new ApiError("E_VALIDATION", `two files are named ${JSON.stringify(f.path)}`, `/files/${i}/path`);
          paths.add(f.path);
        }
        return ports.rules.check(body.files);
      },
    },
    setEnabled(true),
    setEnabled(false),
    {
      method: "POST",
      url: "/v1/rules/reload",
      access: "rules:admin",
      tag: "rules",
      summary: "Reload the rule pack from its files; a pack with errors is refused (applied: false) and the running one kept",
      responses: { 200: "{ applied, ok, rules, diagnostics }" },
      handler: async (req) => ports.rules.reload(principalOf(req).actor),
    },
  ];
}
