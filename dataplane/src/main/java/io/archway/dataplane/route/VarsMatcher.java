package io.archway.dataplane.route;

import io.archway.model.UserRegex;
import io.archway.model.Vars;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A route's {@code vars} compiled once per config change into a tree of predicates: regexes are
 * compiled, numbers parsed and {@code in} lists turned into sets before any request sees them.
 */
@FunctionalInterface
public interface VarsMatcher {

  boolean matches(Variables vars);

  static VarsMatcher compile(Vars.Expr expr) {
    return switch (expr) {
      case Vars.Group g -> group(g);
      case Vars.Term t -> term(t);
    };
  }

  private static VarsMatcher group(Vars.Group g) {
    var terms = g.terms().stream().map(VarsMatcher::compile).toArray(VarsMatcher[]::new);
    VarsMatcher m =
        g.all()
            ? r -> {
              for (var t : terms) {
                if (!t.matches(r)) {
                  return false;
                }
              }
              return true;
            }
            : r -> {
              for (var t : terms) {
                if (t.matches(r)) {
                  return true;
                }
              }
              return false;
            };
    return g.not() ? r -> !m.matches(r) : m;
  }

  private static VarsMatcher term(Vars.Term t) {
    if (t.body() != null) {
      var m = BodyTerms.compile(t);
      return t.not() ? r -> !m.matches(r) : m;
    }
    var name = t.var();
    var value = t.value();
    VarsMatcher m =
        switch (t.op()) {
          case EQ -> {
            var want = value.asText();
            yield r -> want.equals(r.get(name));
          }
          case NE -> {
            var want = value.asText();
            yield r -> !want.equals(r.get(name));
          }
          case GT, GE, LT, LE -> {
            double want =
                value.isNumber() ? value.doubleValue() : Double.parseDouble(value.asText());
            var op = t.op();
            yield r -> {
              var v = r.get(name);
              if (v == null) {
                return false;
              }
              double d;
              try {
                d = Double.parseDouble(v);
              } catch (NumberFormatException e) {
                return false;
              }
              return switch (op) {
                case GT -> d > want;
                case GE -> d >= want;
                case LT -> d < want;
                default -> d <= want;
              };
            };
          }
          case REGEX, REGEX_CI -> {
            var p = t.regex();
            yield r -> {
              var v = r.get(name);
              return v != null && UserRegex.find(p, v);
            };
          }
          case IN -> {
            Set<String> set = new HashSet<>();
            value.forEach(v -> set.add(v.asText()));
            yield r -> {
              var v = r.get(name);
              return v != null && set.contains(v);
            };
          }
          case HAS -> {
            var want = value.asText();
            yield r -> {
              var v = r.get(name);
              return v != null && v.contains(want);
            };
          }
          case IPMATCH -> {
            List<Cidr> cidrs = new ArrayList<>();
            t.cidrs().forEach(c -> cidrs.add(Cidr.parse(c)));
            yield r -> {
              var v = r.get(name);
              if (v == null) {
                return false;
              }
              InetAddress a;
              try {
                a = "remote_addr".equals(name) ? r.remoteAddress() : Cidr.literal(v);
              } catch (IllegalArgumentException e) {
                return false;
              }
              for (var c : cidrs) {
                if (c.contains(a)) {
                  return true;
                }
              }
              return false;
            };
          }
        };
    return t.not() ? r -> !m.matches(r) : m;
  }
}
