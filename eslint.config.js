import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "dsl/grammar.ts", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "*.mjs", "bin/*.js", "scripts/*.mjs"] }, tsconfigRootDir: import.meta.dirname },
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
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
  {
    files: ["dsl/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["../engine/*", "../connectors/*", "../api/*", "../cli/*", "../*/engine/*"], message: "dsl/ imports nothing from the rest of Vigil" }] }],
    },
  },
  {
    files: ["engine/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["../connectors/*", "../api/*", "../cli/*", "../../connectors/*", "../../api/*", "../../cli/*"], message: "engine/ imports only dsl/; connectors implement engine's interfaces" }] }],
    },
  },
);
