import { expect } from 'chai';
import type { OutboxEmail } from '../db/notificationStore.ts';
import { buildMime, mailDate } from './mimeMessage.ts';

describe("An email's Date header, on the shop's clock", () => {
  it('writes 23:30 UTC on a BST day as 00:30 the next day, +0100', () => {
    expect(mailDate(new Date('2025-06-10T23:30:00.000Z'), 'Europe/London')).to.equal('Wed, 11 Jun 2025 00:30:00 +0100');
  });

  it('writes GMT as +0000, either side of the last Sundays of March and October', () => {
    expect(mailDate(new Date('2025-01-10T23:30:00.000Z'), 'Europe/London')).to.equal('Fri, 10 Jan 2025 23:30:00 +0000');
    expect(mailDate(new Date('2025-03-30T00:59:59.000Z'), 'Europe/London')).to.equal('Sun, 30 Mar 2025 00:59:59 +0000');
    expect(mailDate(new Date('2025-03-30T01:00:00.000Z'), 'Europe/London')).to.equal('Sun, 30 Mar 2025 02:00:00 +0100');
    expect(mailDate(new Date('2025-10-26T00:30:00.000Z'), 'Europe/London')).to.equal('Sun, 26 Oct 2025 01:30:00 +0100');
    expect(mailDate(new Date('2025-10-26T01:30:00.000Z'), 'Europe/London')).to.equal('Sun, 26 Oct 2025 01:30:00 +0000');
  });

  it('writes zones behind UTC and half-hour offsets', () => {
    expect(mailDate(new Date('2025-06-11T02:00:00.000Z'), 'America/New_York')).to.equal('Tue, 10 Jun 2025 22:00:00 -0400');
    expect(mailDate(new Date('2025-06-10T23:30:00.000Z'), 'Asia/Kolkata')).to.equal('Wed, 11 Jun 2025 05:00:00 +0530');
  });

  it('is the Date header of the message built for the outbox', async () => {
    const email = {
      id: 1, key: 'order-ORD-AAAAA-BBBBB-dispatched', orderId: 'ORD-AAAAA-BBBBB', kind: 'dispatched', toName: 'Ada Lovelace', toAddress: 'ada@example.com',
      subject: 'On its way', html: '<p>On its way</p>', text: 'On its way', messageId: '<order-ORD-AAAAA-BBBBB-dispatched@shop.example>',
      createdAt: '2025-06-10T23:30:00.000Z', raw: null,
    } as unknown as OutboxEmail;
    const raw = (await buildMime(email, 'Atom Shop <orders@shop.example>', 'Europe/London')).toString('utf8');
    expect(raw).to.match(/^Date: Wed, 11 Jun 2025 00:30:00 \+0100\r$/m);
  });
});
