// Writes the sha256 of schema.json into the first line of schema.d.ts, so a check without Node
// (credits_platform/tests/test_typescript_client.py) can tell whether the types were generated
// from the committed schema.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const hash = createHash("sha256").update(readFileSync("schema.json")).digest("hex");
const types = readFileSync("schema.d.ts", "utf8").replace(/^\/\/ schema\.json sha256: \w+\n/, "");
writeFileSync("schema.d.ts", `// schema.json sha256: ${hash}\n${types}`);
