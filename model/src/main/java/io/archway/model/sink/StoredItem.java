package io.archway.model.sink;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.Keys.Key;

/**
 * An item as it is in etcd now: its JSON (not validated: the sink reads what it must not break),
 * its owner ({@code null} when not Archway's) and its mod revision for compare-and-swap.
 */
public record StoredItem(Key key, JsonNode value, Owner owner, long modRevision) {}
