import { defineConfig } from "vite";

// One minified ES module with Lit and Chart.js inside, written straight into the Django app's
// static folder and committed, so `make run` and the tests need no npm. (An app build rather than
// library mode: library mode leaves ES output unminified for bundlers that re-bundle it.)
export default defineConfig({
  build: {
    outDir: "../webapp/static/webapp",
    emptyOutDir: false,
    copyPublicDir: false,
    target: "es2020",
    rollupOptions: {
      input: "src/index.js",
      preserveEntrySignatures: "strict", // keep the module's exports (CreditsApi, the element classes)
      output: { entryFileNames: "credits-components.js", format: "es", inlineDynamicImports: true },
    },
  },
});
