//! Stand-in for `crate::sockets::filter::Filter` until the engine's lands;
//! the window switches to the engine's filter then and this file goes.

use crate::sockets::{Proto, SocketEntry, TcpState};

use super::sockets::QuickFilter;

pub struct Filter {
    all_states: bool,
    listening: bool,
    time_wait: bool,
    tcp: bool,
    udp: bool,
    /// Lower-cased free text; empty matches everything.
    text: String,
}

impl Filter {
    pub fn from_quick(q: &QuickFilter) -> Filter {
        Filter {
            all_states: q.all_states,
            listening: q.listening,
            time_wait: q.time_wait,
            tcp: q.tcp,
            udp: q.udp,
            text: q.text.trim().to_lowercase(),
        }
    }

    pub fn matches(&self, e: &SocketEntry) -> bool {
        let proto_ok = match e.proto {
            Proto::Tcp => self.tcp,
            Proto::Udp => self.udp,
        };
        if !proto_ok {
            return false;
        }
        if !self.all_states {
            let listening = self.listening && e.is_listening();
            let tw = self.time_wait && e.state == Some(TcpState::TimeWait);
            if !(listening || tw) {
                return false;
            }
        }
        if self.text.is_empty() {
            return true;
        }
        let t = self.text.as_str();
        if e.local_port.to_string().contains(t)
            || e.remote_port.is_some_and(|p| p.to_string().contains(t))
            || e.local_addr.to_string().contains(t)
            || e.remote_addr.is_some_and(|a| a.to_string().contains(t))
        {
            return true;
        }
        e.processes
            .iter()
            .any(|p| p.pid.to_string().contains(t) || p.name.to_lowercase().contains(t))
    }
}
