import js from "@eslint/js";
import tseslint from "typescript-eslint";

const nodeGlobals = { process: "readonly", console: "readonly", URL: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", performance: "readonly" };

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "dsl/grammar.ts", "coverage/**"] },
  js.configs.recommended,
  {
    files: ["**/*.ts"],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: nodeGlobals, sourceType: "module" },
  },
  {
    files: ["dsl/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/engine/**", "**/connectors/**", "**/api/**", "**/cli/**"], message: "dsl/ imports nothing from the rest of Vigil" }] }],
    },
  },
  {
    files: ["engine/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/connectors/**", "**/api/**", "**/cli/**"], message: "engine/ imports only dsl/; connectors implement engine's interfaces" }] }],
    },
  },
  {
    files: ["connectors/**/*.ts", "api/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/cli/**"], message: "only cli/ wires concrete pieces together" }] }],
    },
  },
);
