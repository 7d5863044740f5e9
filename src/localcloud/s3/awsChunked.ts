// The aws-chunked content encoding, in which the SDK sends a streamed body
// of unknown length with its checksum in a trailer:
//   <hex size>[;chunk-signature=...]\r\n<bytes>\r\n ... 0\r\n<name>:<value>\r\n\r\n
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
import { Transform, type TransformCallback } from "node:stream";
import { AwsError } from "../protocol/awsError.js";

/** Decodes aws-chunked into the plain body; `trailers` holds the trailing headers once it ends. */
export class AwsChunkedDecoder extends Transform {
  readonly trailers: Record<string, string> = {};
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes of chunk data still to pass through, then the CRLF after them. */
  private remaining = 0;
  private state: "size" | "data" | "crlf" | "trailer" | "done" = "size";

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    try {
      this.drain();
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.state !== "done" && !(this.state === "trailer" && this.buffer.length === 0)) {
      done(
        new AwsError(
          "IncompleteBody",
          "You did not provide the number of bytes specified by the aws-chunked encoding",
        ),
      );
      return;
    }
    done();
  }

  private line(): string | undefined {
    const end = this.buffer.indexOf("\r\n");
    if (end < 0) {
      if (this.buffer.length > 64 * 1024) throw malformed("a chunk header line is too long");
      return undefined;
    }
    const text = this.buffer.subarray(0, end).toString("latin1");
    this.buffer = this.buffer.subarray(end + 2);
    return text;
  }

  private drain(): void {
    for (;;) {
      switch (this.state) {
        case "size": {
          const line = this.line();
          if (line === undefined) return;
          const size = Number.parseInt(line.split(";")[0] ?? "", 16);
          if (!Number.isFinite(size) || size < 0) throw malformed(`bad chunk size line: ${line}`);
          this.remaining = size;
          this.state = size === 0 ? "trailer" : "data";
          break;
        }
        case "data": {
          if (this.buffer.length === 0) return;
          const take = Math.min(this.remaining, this.buffer.length);
          this.push(this.buffer.subarray(0, take));
          this.buffer = this.buffer.subarray(take);
          this.remaining -= take;
          if (this.remaining === 0) this.state = "crlf";
          break;
        }
        case "crlf": {
          if (this.buffer.length < 2) return;
          if (this.buffer[0] !== 0x0d || this.buffer[1] !== 0x0a)
            throw malformed("chunk data is not followed by CRLF");
          this.buffer = this.buffer.subarray(2);
          this.state = "size";
          break;
        }
        case "trailer": {
          const line = this.line();
          if (line === undefined) return;
          if (line === "") {
            this.state = "done";
            break;
          }
          const colon = line.indexOf(":");
          if (colon > 0)
            this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
          break;
        }
        case "done":
          this.buffer = Buffer.alloc(0);
          return;
      }
    }
  }
}

function malformed(detail: string): AwsError {
  return new AwsError("InvalidRequest", `The aws-chunked body is malformed: ${detail}`);
}
