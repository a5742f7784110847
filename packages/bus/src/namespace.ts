/**
 * A namespace prefixes every subject (`t1.md.tick.EURCAD`), stream (`t1_MD`) and KV bucket (`t1_trading`),
 * so tests and parallel stacks on one NATS server never see each other's messages. Production uses none.
 */
export class Namespace {
  constructor(readonly prefix: string) {
    if (!/^[a-z0-9_]*$/.test(prefix))
      throw new Error(`bus namespace "${prefix}" must be lowercase letters, digits or "_"`);
  }

  subject(base: string): string {
    return this.prefix ? `${this.prefix}.${base}` : base;
  }

  /** The base subject of a namespaced one, for handlers that dispatch on the subject. */
  baseSubject(subject: string): string {
    return this.prefix && subject.startsWith(`${this.prefix}.`)
      ? subject.slice(this.prefix.length + 1)
      : subject;
  }

  stream(base: string): string {
    return this.prefix ? `${this.prefix}_${base}` : base;
  }

  bucket(base: string): string {
    return this.prefix ? `${this.prefix}_${base}` : base;
  }

  /** Durable consumer names are per stream, so only the stream needs the prefix; kept readable. */
  consumer(base: string): string {
    return base;
  }
}
