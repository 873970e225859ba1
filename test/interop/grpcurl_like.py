#!/usr/bin/python3
"""Administers A2A the way grpcurl does, through an independent gRPC stack (Debian's
python3-grpcio): every type comes from server reflection, nothing from our own code.

usage: grpcurl_like.py HOST:PORT CLIENT_ID CLIENT_SECRET
Prints one JSON object with what it saw. Exit 3 when the Python gRPC stack is missing.
"""
import importlib
import importlib.util
import json
import os
import sys
import tempfile

try:
    import grpc
    from grpc_tools import protoc
    from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
except ImportError as e:  # pragma: no cover
    print(f"MISSING: {e}; install python3-grpcio python3-grpc-tools grpc-proto", file=sys.stderr)
    sys.exit(3)

GRPC_PROTO = "/usr/share/grpc-proto"
if not os.path.isdir(os.path.join(GRPC_PROTO, "grpc", "reflection")):
    print("MISSING: /usr/share/grpc-proto (Debian package grpc-proto)", file=sys.stderr)
    sys.exit(3)


def load(version):
    out = tempfile.mkdtemp()
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    proto = f"grpc/reflection/{version}/reflection.proto"
    if protoc.main(["protoc", f"-I{GRPC_PROTO}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}", proto]) != 0:
        raise SystemExit(f"protoc failed for {proto}")
    # The generated package is named "grpc", like the grpc library: load the files by path.
    base = os.path.join(out, "grpc", "reflection", version)
    spec = importlib.util.spec_from_file_location(f"refl_{version}_pb2", os.path.join(base, "reflection_pb2.py"))
    pb2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pb2)
    return pb2


class Reflection:
    """A reflection client over one bidi stream per request, as grpcurl uses it."""

    def __init__(self, channel, version):
        self.pb2 = load(version)
        self.version = version
        self.method = channel.stream_stream(
            f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
            request_serializer=self.pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=self.pb2.ServerReflectionResponse.FromString,
        )

    def ask(self, **kwargs):
        responses = list(self.method(iter([self.pb2.ServerReflectionRequest(**kwargs)])))
        assert len(responses) == 1, responses
        r = responses[0]
        if r.HasField("error_response"):
            raise LookupError(f"{r.error_response.error_code}: {r.error_response.error_message}")
        return r

    def services(self):
        return [s.name for s in self.ask(list_services="").list_services_response.service]

    def files_for(self, symbol):
        r = self.ask(file_containing_symbol=symbol)
        return [descriptor_pb2.FileDescriptorProto.FromString(b) for b in r.file_descriptor_response.file_descriptor_proto]


def build_pool(files):
    """Adds files dependencies first, as a strict client must; fails on any missing import."""
    pool = descriptor_pool.DescriptorPool()
    pending = {f.name: f for f in files}
    added = set()
    while pending:
        progress = False
        for name, f in list(pending.items()):
            if all(d in added for d in f.dependency):
                pool.Add(f)
                added.add(name)
                del pending[name]
                progress = True
        if not progress:
            missing = {d for f in pending.values() for d in f.dependency if d not in added and d not in pending}
            raise SystemExit(f"unresolvable imports: {sorted(missing)} (files {sorted(pending)})")
    return pool


def main():
    address, client_id, client_secret = sys.argv[1:4]
    channel = grpc.insecure_channel(address)
    out = {}
    refl = Reflection(channel, "v1")
    services = refl.services()
    out["services"] = services
    out["v1alpha_services"] = Reflection(channel, "v1alpha").services()

    files = {}
    for svc in services:
        for f in refl.files_for(svc):
            files[f.name] = f
    pool = build_pool(files.values())
    factory = message_factory.MessageFactory(pool)
    out["methods"] = {}
    for svc in services:
        desc = pool.FindServiceByName(svc)
        out["methods"][svc] = [m.name for m in desc.methods]
    try:
        refl.ask(file_containing_symbol="a2a.v1.NoSuchThing")
        out["unknown_symbol"] = "answered"
    except LookupError as e:
        out["unknown_symbol"] = str(e)

    def invoke(full_method, body, metadata, streaming):
        """Calls a method from its reflected types with a JSON request, as grpcurl does."""
        svc, name = full_method.rsplit("/", 1)
        method = pool.FindServiceByName(svc).FindMethodByName(name)
        req_cls = factory.GetPrototype(method.input_type)
        res_cls = factory.GetPrototype(method.output_type)
        request = json_format.Parse(json.dumps(body), req_cls())
        make = channel.unary_stream if streaming else channel.unary_unary
        rpc = make(f"/{svc}/{name}", request_serializer=req_cls.SerializeToString, response_deserializer=res_cls.FromString)
        as_json = lambda m: json.loads(json_format.MessageToJson(m, preserving_proto_field_name=True))
        try:
            answer = rpc(request, metadata=list(metadata), timeout=10)
            return {"code": "OK", "messages": [as_json(m) for m in answer]} if streaming else {"code": "OK", "json": as_json(answer)}
        except grpc.RpcError as e:
            return {"code": e.code().name, "details": e.details()}

    call = lambda full_method, body, metadata=(): invoke(full_method, body, metadata, False)
    stream = lambda full_method, body, metadata=(): invoke(full_method, body, metadata, True)

    token = call("a2a.v1.TokenService/IssueToken", {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret})
    out["issue_token"] = {"code": token["code"], "token_type": token.get("json", {}).get("token_type"), "expires_in": token.get("json", {}).get("expires_in")}
    auth = (("authorization", "Bearer " + token["json"]["access_token"]),)
    out["create_resource"] = call("a2a.v1.AdminService/CreateResource", {"resource": {"name": "pam-core", "description": "PAM Core"}}, auth)
    app = call("a2a.v1.AdminService/CreateApplication", {"application": {"name": "ERP Finance - Integration", "auth_method": "AUTH_METHOD_OAUTH2"}}, auth)
    out["create_application"] = app
    authz = call("a2a.v1.AdminService/CreateAuthorization", {"authorization": {
        "application_id": app["json"]["application"]["id"], "expires_at": "2025-01-30T21:00:00Z",
        "grants": [{"resource": "pam-core", "permission": "PERMISSION_READ_WRITE"}],
        "allowed_ips": ["10.0.0.0/8", "127.0.0.1"], "allowed_referers": ["https://erp.example.com"]}}, auth)
    out["create_authorization"] = {"code": authz["code"], "authorization": authz.get("json", {}).get("authorization"),
                                   "has_secret": bool(authz.get("json", {}).get("credentials", {}).get("client_secret"))}
    out["update_application"] = call("a2a.v1.AdminService/UpdateApplication", {
        "application": {"id": app["json"]["application"]["id"], "description": "via grpcurl"}, "update_mask": "description"}, auth)
    out["list_resources"] = call("a2a.v1.AdminService/ListResources", {}, auth)
    out["bad_cidr"] = call("a2a.v1.AdminService/CreateAuthorization", {"authorization": {
        "application_id": app["json"]["application"]["id"], "grants": [{"resource": "pam-core", "permission": "PERMISSION_READ"}],
        "allowed_ips": ["10.0.0.0/33"]}}, auth)
    out["no_token"] = call("a2a.v1.AdminService/ListApplications", {})
    out["audit"] = call("a2a.v1.AuditService/ListAuditEvents", {"page_size": 3, "failures_only": True}, auth)
    # The auditor's steps: verify the chain, find where a token was used, export for a SIEM (a stream).
    out["verify_chain"] = call("a2a.v1.AuditService/VerifyAuditChain", {}, auth)
    hashed = call("a2a.v1.AuditService/HashValue", {"value": token["json"]["access_token"]}, auth)
    out["token_search"] = call("a2a.v1.AuditService/ListAuditEvents", {"request_text": hashed["json"]["hash"]}, auth)
    out["token_hash"] = hashed["json"]["hash"]
    out["export"] = stream("a2a.v1.AuditService/ExportAuditEvents", {"format": "EXPORT_FORMAT_NDJSON", "filter": {"method": "CreateApplication"}}, auth)
    out["jwks"] = call("a2a.v1.TokenService/GetJwks", {})
    out["health"] = call("grpc.health.v1.Health/Check", {"service": ""})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
