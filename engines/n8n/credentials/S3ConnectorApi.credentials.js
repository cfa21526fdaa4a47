// The credentials type `s3ConnectorApi` of n8n-nodes-s3-connector: where S3 is, the keys, and
// the policy (allow rules) the S3 Connector node enforces in n8n's process before the sandboxed
// plugin component sends anything. n8n stores it encrypted like any credentials.
class S3ConnectorApi {
  constructor() {
    this.name = "s3ConnectorApi";
    this.displayName = "S3 Connector API";
    this.properties = [
      {
        displayName: "Endpoint",
        name: "endpoint",
        type: "string",
        default: "https://s3.us-east-1.amazonaws.com",
        placeholder: "https://s3.eu-west-1.amazonaws.com",
        required: true,
        description: "The S3 endpoint (scheme, host, port). The component may send requests only to this origin.",
      },
      {
        displayName: "Region",
        name: "region",
        type: "string",
        default: "us-east-1",
        required: true,
      },
      {
        displayName: "Path Style",
        name: "pathStyle",
        type: "boolean",
        default: false,
        description: "Whether to address buckets as https://endpoint/BUCKET/KEY instead of https://BUCKET.endpoint/KEY",
      },
      {
        displayName: "Access Key ID",
        name: "accessKeyId",
        type: "string",
        default: "",
        required: true,
      },
      {
        displayName: "Secret Access Key",
        name: "secretAccessKey",
        type: "string",
        typeOptions: { password: true },
        default: "",
        required: true,
        description: "Stays in n8n's process: the sandboxed component gets only the signing key derived from it for the day",
      },
      {
        displayName: "Session Token",
        name: "sessionToken",
        type: "string",
        typeOptions: { password: true },
        default: "",
        description: "For temporary credentials only",
      },
      {
        displayName: "Allow Rules",
        name: "allow",
        type: "string",
        typeOptions: { rows: 4 },
        default: "",
        placeholder: "invoices/2026/=read,write,list\ninvoices=admin",
        required: true,
        description:
          "The policy, one rule per line: BUCKET[/PREFIX][=ACCESS], ACCESS among read, write, delete, list, admin (default read,write,delete,list), * for every bucket. No rule allows nothing.",
      },
    ];
  }
}

module.exports = { S3ConnectorApi };
