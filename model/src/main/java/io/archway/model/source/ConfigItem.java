package io.archway.model.source;

import io.archway.model.ConfigObject;
import io.archway.model.Keys.Key;

/**
 * One valid object of the config and the revision that wrote it (etcd's mod revision; a counter of
 * reloads for the file source).
 */
public record ConfigItem(Key key, ConfigObject value, long modRevision) {}
