package querygate;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;

/**
 * Prints deterministic results of server-side prepared statements and a batch insert, so a test
 * can compare a run through querygate with a run against the database directly.
 * Usage: JdbcProbe <jdbc url> <user> <password>
 */
public final class JdbcProbe {
  public static void main(String[] args) throws Exception {
    try (Connection c = DriverManager.getConnection(args[0], args[1], args[2])) {
      try (Statement s = c.createStatement()) {
        s.execute("DROP TABLE IF EXISTS jdbc_t");
        s.execute("CREATE TABLE jdbc_t (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(10,2), at DATETIME(3), flag BOOLEAN, note TEXT)");
      }
      c.setAutoCommit(false);
      try (PreparedStatement p = c.prepareStatement("INSERT INTO jdbc_t VALUES (?, ?, ?, ?, ?, ?)")) {
        for (int i = 1; i <= 50; i++) {
          p.setInt(1, i);
          p.setString(2, "name-" + i);
          p.setBigDecimal(3, new java.math.BigDecimal(i + ".25"));
          p.setTimestamp(4, java.sql.Timestamp.valueOf("2024-01-0" + (1 + i % 9) + " 10:11:12.345"));
          p.setBoolean(5, i % 2 == 0);
          if (i % 5 == 0) p.setNull(6, java.sql.Types.VARCHAR); else p.setString(6, "note " + i);
          p.addBatch();
        }
        int[] counts = p.executeBatch();
        int total = 0;
        for (int n : counts) total += (n == Statement.SUCCESS_NO_INFO ? 1 : n);
        System.out.println("batch " + counts.length + " " + total);
      }
      c.commit();
      c.setAutoCommit(true);
      try (PreparedStatement q = c.prepareStatement("SELECT id, name, amount, at, flag, note FROM jdbc_t WHERE id BETWEEN ? AND ? ORDER BY id")) {
        for (int round = 0; round < 3; round++) {
          q.setInt(1, 10 * round + 1);
          q.setInt(2, 10 * round + 7);
          try (ResultSet rs = q.executeQuery()) {
            print(rs);
          }
        }
      }
      try (PreparedStatement u = c.prepareStatement("UPDATE jdbc_t SET note = ? WHERE id % ? = 0")) {
        u.setString(1, "updated");
        u.setInt(2, 7);
        System.out.println("updated " + u.executeUpdate());
      }
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*), SUM(amount), GROUP_CONCAT(id ORDER BY id) FROM jdbc_t WHERE note = 'updated'")) {
        print(rs);
      }
    }
  }

  private static void print(ResultSet rs) throws Exception {
    ResultSetMetaData md = rs.getMetaData();
    while (rs.next()) {
      StringBuilder line = new StringBuilder();
      for (int i = 1; i <= md.getColumnCount(); i++) {
        if (i > 1) line.append(" | ");
        line.append(md.getColumnLabel(i)).append('=').append(rs.getString(i));
      }
      System.out.println(line);
    }
  }
}
