import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** What the SMTP peer does with a message: accept it (undefined) or refuse it with an error carrying an SMTP reply code. */
export type OnMail = (mail: ParsedMail, session: SMTPServerSession) => Error | undefined;

/** An error carrying an SMTP reply code, as nodemailer reports a refusal. */
export const refuse = (responseCode: number, message: string) => Object.assign(new Error(message), { responseCode });

/** A real SMTP server on a loopback port, which can be stopped and started again on the same port. */
export class SmtpPeer {
  readonly received: ParsedMail[] = [];
  /** Every DATA it was offered, accepted or not. */
  offered = 0;
  onMail: OnMail = () => undefined;
  /** Recipients refused at RCPT TO, with the reply. */
  readonly refuseRecipients = new Map<string, Error>();
  #server: SMTPServer | undefined;

  async start(port = 0): Promise<number> {
    this.#server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onRcptTo: (address, _session, done) => done(this.refuseRecipients.get(address.address) ?? undefined),
      onData: (stream, session, done) => {
        simpleParser(stream).then((mail) => {
          this.offered++;
          const refusal = this.onMail(mail, session);
          if (!refusal) this.received.push(mail);
          done(refusal ?? null);
        }, done);
      },
    });
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server.server, 'listening');
    return (this.#server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  subjects(): string[] { return this.received.map((m) => m.subject ?? ''); }
}
