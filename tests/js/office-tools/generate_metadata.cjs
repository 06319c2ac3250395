// Run Microsoft's custom-functions-metadata generator on a JSDoc source file and print the
// functions.json it makes (or its errors). Usage: node generate_metadata.cjs functions_twin.js
const { generateCustomFunctionsMetadata } = require("custom-functions-metadata/lib/generate");

generateCustomFunctionsMetadata(process.argv[2]).then((result) => {
  process.stdout.write(JSON.stringify({ errors: result.errors,
    metadata: result.metadataJson ? JSON.parse(result.metadataJson) : null }) + "\n");
});
