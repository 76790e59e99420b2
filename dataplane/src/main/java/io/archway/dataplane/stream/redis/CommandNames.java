package io.archway.dataplane.stream.redis;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * Redis's command names (Redis 7's {@code COMMAND LIST}, top level), looked up straight from a
 * client's bytes in any case, so the decoder allocates no string for a known command and every
 * command of a name shares one {@link String} (hash code included) for the metrics map. Each name
 * carries what the session needs to know of it: whether it needs a server connection of its own,
 * and whether it starts replies that answer no command ({@code SUBSCRIBE}, {@code MONITOR}).
 */
final class CommandNames {

  /**
   * A known command: its lower-case name and what it asks of its connection ({@code closes}: Redis
   * closes the connection that sends it; {@code quits}: {@code QUIT}).
   */
  record Name(
      String name,
      boolean needsOwnConnection,
      boolean startsPushes,
      boolean closes,
      boolean quits) {}

  /**
   * Commands that change or depend on the state of their server connection, that can answer with
   * more than one reply, or that can keep the server busy while it still serves other connections
   * (scripts and functions: a shared link behind a busy script would hold {@code SCRIPT KILL}
   * back). The table in docs/security.md ("Redis proxy isolation") lists them; keep the two in
   * step.
   */
  static final Set<String> NEEDS_OWN_CONNECTION =
      Set.of(
          "multi",
          "watch",
          "blpop",
          "brpop",
          "brpoplpush",
          "blmove",
          "blmpop",
          "bzpopmin",
          "bzpopmax",
          "bzmpop",
          "xread",
          "xreadgroup",
          "wait",
          "waitaof",
          "subscribe",
          "psubscribe",
          "ssubscribe",
          "monitor",
          "auth",
          "select",
          "hello",
          "client",
          "reset",
          "readonly",
          "readwrite",
          "asking",
          "sync",
          "psync",
          "replconf",
          "debug",
          "shutdown",
          "unsubscribe",
          "punsubscribe",
          "sunsubscribe",
          "eval",
          "evalsha",
          "eval_ro",
          "evalsha_ro",
          "fcall",
          "fcall_ro",
          "script",
          "function");

  /**
   * After these, a RESP2 connection receives messages that answer no command (or, for the
   * unsubscribes, one reply per channel).
   */
  static final Set<String> STARTS_PUSHES =
      Set.of(
          "subscribe",
          "psubscribe",
          "ssubscribe",
          "monitor",
          "unsubscribe",
          "punsubscribe",
          "sunsubscribe");

  /**
   * Redis's {@code securityWarningCommand}: an HTTP request sent to Redis (cross-protocol
   * scripting) makes it close the connection at once, without a reply.
   */
  static final Set<String> CLOSES = Set.of("host:", "post");

  private static final String KNOWN =
      ""
          + "acl append asking auth bgrewriteaof bgsave bitcount bitfield bitfield_ro bitop bitpos "
          + "blmove blmpop blpop brpop brpoplpush bzmpop bzpopmax bzpopmin client cluster command "
          + "config copy dbsize debug decr decrby del discard dump echo eval eval_ro evalsha "
          + "evalsha_ro exec exists expire expireat expiretime failover fcall fcall_ro flushall "
          + "flushdb function geoadd geodist geohash geopos georadius georadius_ro georadiusbymember "
          + "georadiusbymember_ro geosearch geosearchstore get getbit getdel getex getrange getset "
          + "hdel hello hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget hmset hrandfield "
          + "hscan hset hsetnx hstrlen hvals incr incrby incrbyfloat info keys lastsave latency lcs "
          + "lindex linsert llen lmove lmpop lolwut lpop lpos lpush lpushx lrange lrem lset ltrim "
          + "memory mget migrate module monitor move mset msetnx multi object persist pexpire "
          + "pexpireat pexpiretime pfadd pfcount pfdebug pfmerge pfselftest ping psetex psubscribe "
          + "psync pttl publish pubsub punsubscribe quit randomkey readonly readwrite rename renamenx "
          + "replconf replicaof reset restore restore-asking role rpop rpoplpush rpush rpushx sadd "
          + "save scan scard script sdiff sdiffstore select set setbit setex setnx setrange shutdown "
          + "sinter sintercard sinterstore sismember slaveof slowlog smembers smismember smove sort "
          + "sort_ro spop spublish srandmember srem sscan ssubscribe strlen subscribe substr sunion "
          + "sunionstore sunsubscribe swapdb sync time touch ttl type unlink unsubscribe unwatch wait "
          + "watch xack xadd xautoclaim xclaim xdel xgroup xinfo xlen xpending xrange xread "
          + "xreadgroup xrevrange xsetid xtrim zadd zcard zcount zdiff zdiffstore zincrby zinter "
          + "zintercard zinterstore zlexcount zmpop zmscore zpopmax zpopmin zrandmember zrange "
          + "zrangebylex zrangebyscore zrangestore zrank zrem zremrangebylex zremrangebyrank "
          + "zremrangebyscore zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore zunion "
          + "zunionstore ";

  static final int MAX_LENGTH = 32;
  private static final Name[] TABLE = new Name[1024];

  static {
    for (var n : KNOWN.split(" ")) {
      add(n);
    }
    for (var n : NEEDS_OWN_CONNECTION) {
      add(n); // and those newer than the list, such as WAITAOF
    }
    for (var n : CLOSES) {
      add(n);
    }
  }

  private static void add(String n) {
    if (n.isEmpty()) {
      return;
    }
    int h = hash(n);
    for (int i = h & (TABLE.length - 1); ; i = (i + 1) & (TABLE.length - 1)) {
      if (TABLE[i] == null) {
        TABLE[i] = of(n);
        return;
      }
      if (TABLE[i].name().equals(n)) {
        return;
      }
    }
  }

  static Name of(String lower) {
    return new Name(
        lower,
        NEEDS_OWN_CONNECTION.contains(lower),
        STARTS_PUSHES.contains(lower),
        CLOSES.contains(lower),
        lower.equals("quit"));
  }

  private CommandNames() {}

  /**
   * The name in {@code bytes}' first {@code length} bytes ({@code length <= 32}): a known one
   * without allocating, or a new lower-case one.
   */
  static Name lookup(byte[] bytes, int length) {
    int h = 0;
    for (int i = 0; i < length; i++) {
      h = 31 * h + lower(bytes[i]);
    }
    for (int i = spread(h) & (TABLE.length - 1);
        TABLE[i] != null;
        i = (i + 1) & (TABLE.length - 1)) {
      if (matches(TABLE[i].name(), bytes, length)) {
        return TABLE[i];
      }
    }
    return of(new String(bytes, 0, length, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT));
  }

  /** The same for a name already read as text (inline commands). */
  static Name lookup(String text) {
    var lower = text.toLowerCase(Locale.ROOT);
    if (lower.length() <= MAX_LENGTH) {
      for (int i = hash(lower) & (TABLE.length - 1);
          TABLE[i] != null;
          i = (i + 1) & (TABLE.length - 1)) {
        if (TABLE[i].name().equals(lower)) {
          return TABLE[i];
        }
      }
    }
    return of(lower);
  }

  private static boolean matches(String name, byte[] bytes, int length) {
    if (name.length() != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (name.charAt(i) != lower(bytes[i])) {
        return false;
      }
    }
    return true;
  }

  private static int lower(byte b) {
    return b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b & 0xff;
  }

  private static int hash(String lower) {
    return spread(lower.hashCode());
  }

  private static int spread(int h) {
    return h ^ (h >>> 16);
  }
}
