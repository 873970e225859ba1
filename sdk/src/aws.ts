/**
 * The AWS IAM grant, client side: signs an sts:GetCallerIdentity request with the workload's
 * own AWS credentials, using the AWS SDK's signer (@smithy/signature-v4) and credential chain
 * (@aws-sdk/credential-provider-node: environment, shared files, SSO, ECS/EC2 roles, web
 * identity), and exchanges it at A2A for an access token. No A2A secret is involved.
 */
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { IssueTokenRequest } from "./gen/a2a/v1/token_service";
import { A2ATokenSource, type TokenRequestOptions } from "./token-source";

export const AWS_SERVER_ID_HEADER = "x-a2a-server-id";
const BODY = "Action=GetCallerIdentity&Version=2011-06-15";

/** The AWS SDK's default chain, made once: it caches and refreshes what it finds. */
let chain: AwsCredentialIdentityProvider | undefined;
const defaultChain = () => (chain ??= defaultProvider());

export interface AwsIamOptions extends TokenRequestOptions {
  /** The client_id of the AWS application's authorization. */
  readonly clientId: string;
  /** The server id A2A expects (its A2A_AWS_SERVER_ID). */
  readonly serverId: string;
  /** The STS endpoint A2A is configured with; default "https://sts.amazonaws.com". */
  readonly stsEndpoint?: string;
  /** The signing region; default "us-east-1" (the global endpoint's). */
  readonly region?: string;
  /** AWS credentials; default: the AWS SDK's default provider chain. */
  readonly awsCredentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/**
 * Signs the GetCallerIdentity request A2A forwards to STS: POST to the endpoint, the form
 * body, and the headers host, content-type and x-a2a-server-id, all signed.
 */
export async function signGetCallerIdentity(options: {
  serverId: string;
  stsEndpoint?: string;
  region?: string;
  awsCredentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}): Promise<NonNullable<IssueTokenRequest["awsRequest"]>> {
  const endpoint = new URL(options.stsEndpoint ?? "https://sts.amazonaws.com");
  const signer = new SignatureV4({
    credentials: options.awsCredentials ?? defaultChain(),
    region: options.region ?? "us-east-1",
    service: "sts",
    sha256: Hash.bind(null, "sha256"),
  });
  const request = new HttpRequest({
    method: "POST",
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: "/",
    headers: {
      host: endpoint.host,
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      [AWS_SERVER_ID_HEADER]: options.serverId,
    },
    body: BODY,
  });
  const signed = await signer.sign(request);
  return {
    method: "POST",
    url: `${endpoint.origin}/`,
    headers: Object.entries(signed.headers).map(([name, value]) => ({ name, value: String(value) })),
    body: Buffer.from(BODY),
  };
}

/** Access tokens through the AWS IAM grant; cached and refreshed like client credentials. */
export class AwsIamTokenSource extends A2ATokenSource {
  constructor(protected override readonly options: AwsIamOptions) {
    super(options);
  }

  protected async request(): Promise<IssueTokenRequest> {
    return {
      grantType: "aws_iam", clientId: this.options.clientId, clientSecret: "", scope: this.options.scope ?? "",
      awsRequest: await signGetCallerIdentity(this.options),
    };
  }
}
