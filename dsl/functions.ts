/** The functions conditions may call; unknown names and wrong arities are compile errors. */

export type FunctionImpl = (args: readonly unknown[]) => unknown;

export interface FunctionSpec {
  readonly name: string;
  readonly arity: number;
  readonly doc: string;
  readonly returns: "string" | "number" | "boolean";
  readonly impl: FunctionImpl;
}

const mapString =
  (f: (s: string) => unknown): FunctionImpl =>
  ([v]) => {
    if (typeof v === "string") return f(v);
    if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? f(x) : undefined));
    return undefined;
  };

const specs: FunctionSpec[] = [
  { name: "lower", arity: 1, returns: "string", doc: "lower-case a string", impl: mapString((s) => s.toLowerCase()) },
  { name: "upper", arity: 1, returns: "string", doc: "upper-case a string", impl: mapString((s) => s.toUpperCase()) },
  {
    name: "len",
    arity: 1,
    returns: "number",
    doc: "length of a string or an array",
    impl: ([v]) => (typeof v === "string" || Array.isArray(v) ? v.length : undefined),
  },
];

export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(specs.map((s) => [s.name, s]));
