// Test tool: validates every Kubernetes object in the YAML files under the
// given directories against the Kubernetes schema of its apiVersion and kind
// (npm kubernetes-models: types, required fields, enums, formats), and
// rejects fields the schema does not know, which kubernetes-models lets pass:
// a field counts as known when giving it a value of every wrong type makes
// the validator complain at that field. kustomization.yaml files are checked
// against the fields casenode uses, and every file or directory they name
// must exist. Prints one line per object; exits 1 on any problem.
//   node validate.mjs DIR...
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const problems = [];
let objects = 0;

async function modelFor(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`;
  const [g, v] = group.split("/");
  const module = g === "core" ? `kubernetes-models/${v}/${kind}` : `kubernetes-models/${g}/${v}/${kind}`;
  try {
    return (await import(module))[kind];
  } catch {
    return null;
  }
}

function errorsOf(Model, object) {
  try {
    new Model(object).validate();
    return [];
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    return e.errors;
  }
}

// Every member path of `value` below the top-level apiVersion and kind.
function* members(value, at = []) {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* members(value[i], [...at, i]);
  } else if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      if (at.length === 0 && (key === "apiVersion" || key === "kind")) continue;
      yield [...at, key];
      yield* members(value[key], [...at, key]);
    }
  }
}

const pointer = (at) => "/" + at.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
const probes = [12345.5, true, "probe", [], { probe: 1 }];

function unknownFields(Model, object) {
  const unknown = [];
  for (const at of members(object)) {
    if (typeof at[at.length - 1] === "number") continue;
    const where = pointer(at);
    if (unknown.some((u) => where.startsWith(u + "/"))) continue;
    const known = probes.some((probe) => {
      const copy = structuredClone(object);
      let parent = copy;
      for (const p of at.slice(0, -1)) parent = parent[p];
      parent[at[at.length - 1]] = probe;
      return errorsOf(Model, copy).some((e) => e.instancePath === where || e.instancePath.startsWith(where + "/"));
    });
    if (!known) unknown.push(where);
  }
  return unknown;
}

const kustomizationFields = new Set(["apiVersion", "kind", "namespace", "resources", "configMapGenerator",
                                     "secretGenerator", "images", "generatorOptions"]);
const generatorFields = new Set(["name", "files", "type"]);

function checkKustomization(file, k) {
  const dir = path.dirname(file);
  if (k.apiVersion !== "kustomize.config.k8s.io/v1beta1") problems.push(`${file}: apiVersion ${k.apiVersion}`);
  for (const key of Object.keys(k)) if (!kustomizationFields.has(key)) problems.push(`${file}: unknown field ${key}`);
  for (const key of Object.keys(k.generatorOptions ?? {})) {
    if (key !== "disableNameSuffixHash") problems.push(`${file}: unknown field generatorOptions.${key}`);
  }
  for (const r of k.resources ?? []) {
    if (!fs.existsSync(path.join(dir, r))) problems.push(`${file}: resource ${r} does not exist`);
  }
  for (const g of [...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])]) {
    for (const key of Object.keys(g)) if (!generatorFields.has(key)) problems.push(`${file}: unknown field ${key}`);
    for (const f of g.files ?? []) {
      if (!fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.isFile()) {
        problems.push(`${file}: ${g.name}: file ${f} does not exist`);
      }
    }
  }
}

function yamlFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? yamlFiles(p) : e.name.endsWith(".yaml") ? [p] : [];
  });
}

for (const root of process.argv.slice(2)) {
  for (const file of yamlFiles(root).sort()) {
    for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
      if (doc.errors.length > 0) {
        problems.push(`${file}: ${doc.errors[0].message}`);
        continue;
      }
      const object = doc.toJS();
      // kubectl reads YAML 1.1, where more plain scalars are not strings (on, y, 0600, ...).
      const as11 = YAML.parseAllDocuments(doc.toString(), { version: "1.1" })[0].toJS();
      if (JSON.stringify(as11) !== JSON.stringify(object)) problems.push(`${file}: reads differently as YAML 1.1`);
      if (object?.kind === "Kustomization") {
        checkKustomization(file, object);
        console.log(`ok ${file} Kustomization`);
        continue;
      }
      const Model = await modelFor(object?.apiVersion ?? "", object?.kind ?? "");
      if (Model === null) {
        problems.push(`${file}: no schema for apiVersion ${object?.apiVersion} kind ${object?.kind}`);
        continue;
      }
      const errors = errorsOf(Model, object);
      for (const e of errors) problems.push(`${file}: ${object.kind} ${e.instancePath || "/"} ${e.message}`);
      for (const u of unknownFields(Model, object)) problems.push(`${file}: ${object.kind} ${u}: unknown field`);
      objects++;
      console.log(`ok ${file} ${object.apiVersion} ${object.kind}`);
    }
  }
}
for (const p of problems) console.error(p);
console.log(`${objects} objects validated, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
