import { describeFeedContract } from '@shop/common/testing';
import { SHIPPING_FEED_TYPES } from '../toFeedEntry.ts';
import { shippingFeedExamples } from './examples.ts';

// Made from the order and billing services' checked-in examples by shipping's own feed readers,
// so this also fails when shipping can no longer read what they publish.
describeFeedContract({ service: 'shipping-service', types: SHIPPING_FEED_TYPES, generate: () => shippingFeedExamples() });
