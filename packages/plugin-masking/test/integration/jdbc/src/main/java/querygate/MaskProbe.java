package querygate;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Runs each line of a file as one query (pgjdbc, extended protocol) and prints what came back:
 *   ==qg== <n>
 *   cols <name>:<type>|...
 *   row <value>|...           (NULL for SQL NULL)
 *   err <SQLSTATE> <message>
 * Mode "statement" uses Statement.executeQuery; "prepared" runs a PreparedStatement twice (with
 * prepareThreshold=1 the second run uses a named server-side statement) and prints the second.
 */
public final class MaskProbe {
  public static void main(String[] args) throws Exception {
    String url = args[0];
    String user = args[1];
    String password = args[2];
    String mode = args[3];
    List<String> queries = Files.readAllLines(Path.of(args[4]), StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder();
    try (Connection c = DriverManager.getConnection(url, user, password)) {
      c.setAutoCommit(true);
      for (int i = 0; i < queries.size(); i++) {
        String sql = queries.get(i);
        if (sql.isBlank()) continue;
        out.append("==qg== ").append(i).append('\n');
        try {
          if (mode.equals("prepared")) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
              print(ps.execute() ? ps.getResultSet() : null, new StringBuilder());
              print(ps.execute() ? ps.getResultSet() : null, out);
            }
          } else {
            try (Statement s = c.createStatement()) {
              print(s.execute(sql) ? s.getResultSet() : null, out);
            }
          }
        } catch (SQLException e) {
          out.append("err ").append(e.getSQLState()).append(' ').append(e.getMessage().replace('\n', ' ')).append('\n');
        }
      }
    }
    System.out.print(out);
  }

  private static void print(ResultSet rs, StringBuilder out) throws SQLException {
    if (rs == null) { out.append("no result\n"); return; }
    ResultSetMetaData md = rs.getMetaData();
    StringBuilder cols = new StringBuilder("cols ");
    for (int i = 1; i <= md.getColumnCount(); i++) {
      if (i > 1) cols.append('|');
      cols.append(md.getColumnLabel(i)).append(':').append(md.getColumnTypeName(i));
    }
    out.append(cols).append('\n');
    while (rs.next()) {
      StringBuilder row = new StringBuilder("row ");
      for (int i = 1; i <= md.getColumnCount(); i++) {
        if (i > 1) row.append('|');
        Object o = rs.getObject(i);
        String v = o instanceof byte[] b ? "\\x" + java.util.HexFormat.of().formatHex(b) : rs.getString(i);
        row.append(v == null ? "NULL" : v.replace("\n", "\\n"));
      }
      out.append(row).append('\n');
    }
    rs.close();
  }
}
