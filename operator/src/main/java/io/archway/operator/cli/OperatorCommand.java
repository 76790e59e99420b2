package io.archway.operator.cli;

import io.archway.model.BuildInfo;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code archway-operator <command>}: without one, the list of commands (and exit status 2). */
@Command(
    name = "archway-operator",
    synopsisSubcommandLabel = "<command>",
    description = {
      "",
      "Reconciles Archway's resources from Kubernetes into etcd, seeds registry nodes into etcd, or checks, translates and draws"
          + " them from files.",
      ""
    },
    commandListHeading = "%nCommands:%n",
    footer = {"", "archway-operator <command> --help lists the command's options."},
    mixinStandardHelpOptions = true,
    versionProvider = OperatorCommand.Version.class,
    subcommands = {
      RunCommand.class,
      SeedCommand.class,
      TranslateCommand.class,
      ValidateCommand.class,
      FlowCommand.class
    })
final class OperatorCommand implements Callable<Integer> {

  /** The product version and the commit it was built from, for {@code --version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {BuildInfo.current().describe("archway-operator")};
    }
  }

  final PrintStream out;
  final PrintStream err;

  @Spec CommandSpec spec;

  OperatorCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() {
    out.print(spec.commandLine().getUsageMessage());
    return 2;
  }

  /**
   * Help that writes an option's value after a space ({@code --etcd URL}), as most tools' help
   * does; both that and {@code --etcd=URL} are read.
   */
  static Help help(CommandSpec spec, Help.ColorScheme colors) {
    return new Help(spec, colors) {
      @Override
      public Help.IParamLabelRenderer parameterLabelRenderer() {
        var labels = super.parameterLabelRenderer();
        return new Help.IParamLabelRenderer() {
          @Override
          public Help.Ansi.Text renderParameterLabel(
              ArgSpec arg, Help.Ansi ansi, List<Help.Ansi.IStyle> styles) {
            var text = labels.renderParameterLabel(arg, ansi, styles);
            var plain = text.plainString();
            return plain.startsWith("=") ? ansi.text(" " + plain.substring(1)) : text;
          }

          @Override
          public String separator() {
            return " ";
          }
        };
      }
    };
  }
}
