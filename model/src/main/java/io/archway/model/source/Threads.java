package io.archway.model.source;

import java.util.concurrent.ThreadFactory;

final class Threads {

  private Threads() {}

  /** One named daemon thread: a config source must never keep the process alive on its own. */
  static ThreadFactory daemon(String name) {
    return r -> {
      var t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
