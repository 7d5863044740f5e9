// S3's REST-XML bodies. Responses are written from the S3 SDK's own output
// schemas (the same writer as the query services, protocol/querySerde.ts), so
// element names and flattened lists are the ones the SDK reads; the few
// request bodies S3 takes (CompleteMultipartUpload) are read here.
// https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html
import * as s3 from "@aws-sdk/client-s3";
import { NormalizedSchema } from "@smithy/core/schema";
import type { AwsError } from "../protocol/awsError.js";
import { escapeXml, writeXmlMembers } from "../protocol/querySerde.js";

const NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** The XML body of an operation's output, rooted at the element the output schema names. */
export function outputXml(operation: string, body: Record<string, unknown>): string {
  const schema = (s3 as unknown as Record<string, unknown[]>)[`${operation}$`];
  if (!schema) throw new Error(`the S3 SDK has no schema for ${operation}`);
  const output = schema[5] as Parameters<typeof NormalizedSchema.of>[0];
  const ns = NormalizedSchema.of(output);
  const root = (ns.getMergedTraits().xmlName as string | undefined) ?? `${operation}Result`;
  return `${DECLARATION}<${root} xmlns="${NAMESPACE}">${writeXmlMembers(output, body)}</${root}>`;
}

export function errorXml(error: AwsError, resource: string, requestId: string): string {
  return `${DECLARATION}<Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
}

function unescapeXml(text: string): string {
  return text
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&#34;", '"')
    .replaceAll("&amp;", "&");
}

/** The parts a CompleteMultipartUpload body names, in the order given. */
export function readCompleteParts(xml: string): { partNumber: number; etag: string }[] {
  const parts: { partNumber: number; etag: string }[] = [];
  for (const match of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const inner = match[1] ?? "";
    const number = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(inner)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1];
    if (number === undefined || etag === undefined) continue;
    parts.push({ partNumber: Number(number), etag: unescapeXml(etag.trim()) });
  }
  return parts;
}
