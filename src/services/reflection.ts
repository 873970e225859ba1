import { readFileSync } from "node:fs";
import type { ServerDuplexStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import * as v1 from "../../sdk/src/gen/grpc/reflection/v1/reflection";
import * as v1alpha from "../../sdk/src/gen/grpc/reflection/v1alpha/reflection";

/** One file of the descriptor set: its raw bytes as `buf build` wrote them, and what it declares. */
interface FileEntry {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly dependencies: string[];
}

/**
 * The descriptor set produced by `buf build` (google.protobuf.FileDescriptorSet), indexed by
 * file and by fully-qualified symbol. Files are served as the exact bytes buf produced, so
 * strict clients (grpcurl) see imports and options as written.
 */
export class DescriptorIndex {
  readonly files = new Map<string, FileEntry>();
  readonly symbols = new Map<string, string>();
  readonly services: string[] = [];

  constructor(set: Uint8Array) {
    const reader = new BinaryReader(set);
    while (reader.pos < reader.len) {
      const [field, wire] = reader.tag();
      if (field === 1) this.addFile(reader.bytes());
      else reader.skip(wire);
    }
  }

  static fromFile(path: string): DescriptorIndex {
    return new DescriptorIndex(readFileSync(path));
  }

  // FileDescriptorProto: name=1 package=2 dependency=3 message_type=4 enum_type=5 service=6 extension=7.
  private addFile(bytes: Uint8Array): void {
    const r = new BinaryReader(bytes);
    let name = "";
    let pkg = "";
    const dependencies: string[] = [];
    const declared: { kind: "message" | "enum" | "service" | "extension"; bytes: Uint8Array }[] = [];
    while (r.pos < r.len) {
      const [field, wire] = r.tag();
      if (field === 1) name = r.string();
      else if (field === 2) pkg = r.string();
      else if (field === 3) dependencies.push(r.string());
      else if (field === 4) declared.push({ kind: "message", bytes: r.bytes() });
      else if (field === 5) declared.push({ kind: "enum", bytes: r.bytes() });
      else if (field === 6) declared.push({ kind: "service", bytes: r.bytes() });
      else if (field === 7) declared.push({ kind: "extension", bytes: r.bytes() });
      else r.skip(wire);
    }
    this.files.set(name, { name, bytes, dependencies });
    const prefix = pkg ? `${pkg}.` : "";
    for (const d of declared) {
      if (d.kind === "message") this.addMessage(name, prefix, d.bytes);
      else if (d.kind === "service") this.addService(name, prefix, d.bytes);
      else this.symbols.set(prefix + nameOf(d.bytes), name);
    }
  }

  // DescriptorProto: name=1 field=2 nested_type=3 enum_type=4 extension=6.
  private addMessage(file: string, prefix: string, bytes: Uint8Array): void {
    const r = new BinaryReader(bytes);
    let name = "";
    const nested: Uint8Array[] = [];
    const leaves: Uint8Array[] = [];
    while (r.pos < r.len) {
      const [field, wire] = r.tag();
      if (field === 1) name = r.string();
      else if (field === 3) nested.push(r.bytes());
      else if (field === 2 || field === 4 || field === 6) leaves.push(r.bytes());
      else r.skip(wire);
    }
    const full = prefix + name;
    this.symbols.set(full, file);
    for (const n of nested) this.addMessage(file, `${full}.`, n);
    for (const l of leaves) this.symbols.set(`${full}.${nameOf(l)}`, file);
  }

  // ServiceDescriptorProto: name=1 method=2.
  private addService(file: string, prefix: string, bytes: Uint8Array): void {
    const r = new BinaryReader(bytes);
    let name = "";
    const methods: Uint8Array[] = [];
    while (r.pos < r.len) {
      const [field, wire] = r.tag();
      if (field === 1) name = r.string();
      else if (field === 2) methods.push(r.bytes());
      else r.skip(wire);
    }
    const full = prefix + name;
    this.symbols.set(full, file);
    this.services.push(full);
    for (const m of methods) this.symbols.set(`${full}.${nameOf(m)}`, file);
  }

  /** The file and everything it imports, transitively, file first. */
  withDependencies(fileName: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    const visit = (name: string) => {
      const f = this.files.get(name);
      if (!f || seen.has(name)) return;
      seen.add(name);
      out.push(f.bytes);
      f.dependencies.forEach(visit);
    };
    visit(fileName);
    return out;
  }
}

/** Field 1 (name) of a descriptor message. */
function nameOf(bytes: Uint8Array): string {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1) return r.string();
    r.skip(wire);
  }
  return "";
}

type Request = v1.ServerReflectionRequest;
type Response = v1.ServerReflectionResponse;

/** Answers one reflection request (v1 and v1alpha share the message shapes). */
export function answerReflection(index: DescriptorIndex, exposed: readonly string[], req: Request): Response {
  const base = { validHost: req.host, originalRequest: req };
  const files = (name: string | undefined) => {
    if (!name) return undefined;
    return { ...base, fileDescriptorResponse: { fileDescriptorProto: index.withDependencies(name).map((b) => Buffer.from(b)) } };
  };
  const notFound = (what: string) => ({ ...base, errorResponse: { errorCode: 5, errorMessage: `${what} not found` } });
  if (req.listServices !== undefined) {
    return { ...base, listServicesResponse: { service: exposed.map((name) => ({ name })) } };
  }
  if (req.fileByFilename !== undefined) {
    return index.files.has(req.fileByFilename) ? files(req.fileByFilename)! : notFound(`file "${req.fileByFilename}"`);
  }
  if (req.fileContainingSymbol !== undefined) {
    const symbol = req.fileContainingSymbol.replace(/^\./, "");
    return files(index.symbols.get(symbol)) ?? notFound(`symbol "${symbol}"`);
  }
  if (req.fileContainingExtension !== undefined) {
    return notFound(`extension ${req.fileContainingExtension.extensionNumber} of "${req.fileContainingExtension.containingType}"`);
  }
  if (req.allExtensionNumbersOfType !== undefined) {
    const type = req.allExtensionNumbersOfType;
    return index.symbols.has(type)
      ? { ...base, allExtensionNumbersResponse: { baseTypeName: type, extensionNumber: [] } }
      : notFound(`type "${type}"`);
  }
  return { ...base, errorResponse: { errorCode: 3, errorMessage: "empty reflection request" } };
}

/**
 * grpc.reflection v1 and v1alpha (the latter for older clients). Both answer from the
 * descriptor set; `exposed` lists the services this server actually serves.
 */
export function reflectionServices(index: DescriptorIndex, exposed: readonly string[]) {
  const handler = (call: ServerDuplexStream<Request, Response>) => {
    call.on("data", (req: Request) => call.write(answerReflection(index, exposed, req)));
    call.on("end", () => call.end());
    call.on("error", () => call.end());
  };
  return [
    { definition: v1.ServerReflectionService, implementation: { serverReflectionInfo: handler } as UntypedServiceImplementation },
    { definition: v1alpha.ServerReflectionService, implementation: { serverReflectionInfo: handler } as UntypedServiceImplementation },
  ];
}
