import { describeFeedContract } from '@shop/common/testing';
import { BILLING_FEED_TYPES } from '../toFeedEntry.ts';
import { billingFeedExamples } from './examples.ts';

// Made from the order service's checked-in examples by billing's own order feed reader, so
// this also fails when billing can no longer read what the order service publishes.
describeFeedContract({ service: 'billing-service', types: BILLING_FEED_TYPES, generate: () => billingFeedExamples() });
