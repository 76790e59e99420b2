package io.archway.dataplane.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.route.RequestVars;
import io.archway.model.Upstream;
import io.archway.model.UpstreamNode;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.Base64;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The session value's format and the rules for using one. */
class StickySessionsTest {

  private static final List<NodeState> NODES =
      List.of(
          new NodeState(new UpstreamNode("10.0.0.1", 80, 1, null, null), 80, 0),
          new NodeState(new UpstreamNode("::1", 8080, 1, null, null), 80, 1),
          new NodeState(new UpstreamNode("10.0.0.3", 80, 0, null, null), 80, 2));

  private static RequestVars cookie(String value) {
    var h = new DefaultHttpHeaders().set(HttpHeaderNames.COOKIE, "other=1; sid=" + value);
    return RequestVars.of("GET", "/", h, "10.1.1.1");
  }

  private static StickySessions sessions(Double absolute, Double idle) {
    return new StickySessions(
        new Upstream.SessionPersistence(null, "sid", absolute, idle, null), NODES);
  }

  @Test
  void aValueRoundTripsAndNamesItsNode() {
    var v = StickySessions.encode("[::1]:8080", 100, 200);
    assertThat(v).matches("[A-Za-z0-9_-]+");
    assertThat(StickySessions.decode(v))
        .isEqualTo(new StickySessions.Session("[::1]:8080", 100, 200));
    long now = StickySessions.now();
    var s = sessions(null, null);
    assertThat(s.pinned(cookie(StickySessions.encode("[::1]:8080", now, now)), null))
        .isSameAs(NODES.get(1));
  }

  @Test
  void malformedValuesAreNotSessions() {
    var enc = Base64.getUrlEncoder().withoutPadding();
    for (var text :
        List.of(
            "2.1.1.10.0.0.1:80", "1.1.1", "1.1.1.", "1.x.1.10.0.0.1:80", "1.5.4.10.0.0.1:80", "")) {
      assertThat(StickySessions.decode(enc.encodeToString(text.getBytes()))).as(text).isNull();
    }
    assertThat(StickySessions.decode("***")).isNull();
    assertThat(StickySessions.decode(null)).isNull();
    assertThat(StickySessions.decode("A".repeat(300))).isNull();
  }

  @Test
  void onlyALiveSessionOnAnUsableNodeOfTheListPins() {
    long now = StickySessions.now();
    var s = sessions(600.0, 60.0);
    assertThat(s.pinned(cookie(StickySessions.encode("10.0.0.1:80", now - 10, now - 10)), null))
        .isSameAs(NODES.get(0));
    // Expired: absolute, idle; from the future.
    assertThat(s.pinned(cookie(StickySessions.encode("10.0.0.1:80", now - 600, now)), null))
        .isNull();
    assertThat(s.pinned(cookie(StickySessions.encode("10.0.0.1:80", now - 100, now - 60)), null))
        .isNull();
    assertThat(s.pinned(cookie(StickySessions.encode("10.0.0.1:80", now + 3600, now + 3600)), null))
        .isNull();
    // Not in the list, weight 0, already tried.
    assertThat(s.pinned(cookie(StickySessions.encode("10.0.0.9:80", now, now)), null)).isNull();
    assertThat(s.pinned(cookie(StickySessions.encode("10.0.0.3:80", now, now)), null)).isNull();
    var tried = new BitSet();
    tried.set(0);
    assertThat(s.pinned(cookie(StickySessions.encode("10.0.0.1:80", now, now)), tried)).isNull();
  }

  @Test
  void theAnswerStartsRefreshesOrLeavesTheSession() {
    long now = StickySessions.now();
    var s = sessions(600.0, 60.0);
    var out = new DefaultHttpHeaders().add(HttpHeaderNames.SET_COOKIE, "mine=1");
    s.issue(cookie("none"), NODES.get(0), out);
    assertThat(out.getAll(HttpHeaderNames.SET_COOKIE))
        .hasSize(2)
        .contains("mine=1")
        .anyMatch(c -> c.matches("sid=[A-Za-z0-9_-]+; Path=/; HttpOnly"));
    // Used a moment ago: nothing; used 30 s ago (over a quarter of idle_timeout): refreshed.
    var quiet = new DefaultHttpHeaders();
    s.issue(cookie(StickySessions.encode("10.0.0.1:80", now - 100, now - 2)), NODES.get(0), quiet);
    assertThat(quiet.isEmpty()).isTrue();
    var refreshed = new DefaultHttpHeaders();
    s.issue(
        cookie(StickySessions.encode("10.0.0.1:80", now - 100, now - 30)), NODES.get(0), refreshed);
    var v = refreshed.get(HttpHeaderNames.SET_COOKIE);
    var session = StickySessions.decode(v.substring(4, v.indexOf(';')));
    assertThat(session.start()).isEqualTo(now - 100);
    assertThat(session.last()).isGreaterThanOrEqualTo(now);
  }

  @Test
  void aPermanentCookieLivesWhatIsLeftOfTheAbsoluteTimeout() {
    long now = StickySessions.now();
    var s =
        new StickySessions(
            new Upstream.SessionPersistence("cookie", "sid", 600.0, 60.0, "permanent"), NODES);
    var out = new DefaultHttpHeaders();
    // A session of another node, moved: a new one, the whole absolute_timeout ahead.
    s.issue(cookie(StickySessions.encode("10.0.0.9:80", now - 100, now)), NODES.get(0), out);
    assertThat(out.get(HttpHeaderNames.SET_COOKIE)).endsWith("; Max-Age=600");
    var refreshed = new DefaultHttpHeaders();
    s.issue(
        cookie(StickySessions.encode("10.0.0.1:80", now - 100, now - 30)), NODES.get(0), refreshed);
    assertThat(refreshed.get(HttpHeaderNames.SET_COOKIE)).matches(".*; Max-Age=(500|499)");
  }
}
